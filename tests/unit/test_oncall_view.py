"""The on-call view a desktop client reads back from the server is the one the server built:
teams, incidents, what was sent and what is due next, through ``/api/v1/oncall``'s schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.api.schemas import OnCallOut
from core.config.notify import Policy, Roster
from core.notify.roster import OnCall
from core.notify.store import Delivery, DeliveryKind, DeliveryState, Incident, IncidentState
from core.site.oncall import Due, read_oncall
from core.site.wire import oncall_from_json

T0 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
ROSTER = Roster.model_validate({
    "timezone": "Europe/Paris",
    "people": [{"id": "alice", "name": "Alice Martin", "email": "a@x.example"},
               {"id": "bob", "name": "Bob Durand", "email": "b@x.example"}],
    "teams": [{"id": "astreinte", "name": "Astreinte", "members": ["alice"], "rotation_start": "2026-11-30"}],
})  # fmt: skip
POLICY = Policy.model_validate({"id": "crue", "repeat": 1, "levels": [
    {"targets": [{"oncall": "astreinte"}], "channels": ["email"], "delay_min": 15},
    {"targets": [{"person": "bob"}], "channels": ["email"], "delay_min": 20},
]})  # fmt: skip


class Store:
    """The two reads the view makes of a paging store, over fixed rows."""

    def __init__(self, incidents: list[Incident], deliveries: list[Delivery]) -> None:
        self._incidents, self._deliveries = incidents, deliveries

    def incidents(self, *states: IncidentState) -> list[Incident]:
        return [i for i in self._incidents if i.state in states]

    def recent(self, limit: int = 100) -> list[Incident]:
        return self._incidents[:limit]

    def alarms(self, incident: int) -> list[object]:
        return []

    def deliveries(self, incident: int | None = None, *states: DeliveryState) -> list[Delivery]:
        return [d for d in self._deliveries if d.incident == incident]


def page(key: str, incident: int, level: int, person: str, state: DeliveryState, at: datetime) -> Delivery:
    return Delivery(key, incident, DeliveryKind.PAGE, level, 0, person, "email", state, 1, "", at, at)


def test_the_next_step_is_the_next_level_with_its_people_then_the_end_of_the_escalation() -> None:
    paging = Incident(1, "crue", IncidentState.OPEN, T0, 0, 0, T0)
    last = Incident(2, "crue", IncidentState.OPEN, T0, 1, 0, T0 + timedelta(minutes=15))
    taken = Incident(3, "crue", IncidentState.ACKED, T0, 0, 0, T0, "Paul", T0 + timedelta(minutes=2))
    store = Store(
        [paging, last, taken], [page("1:page:0:0:alice:email", 1, 0, "alice", DeliveryState.SENT, T0)]
    )
    view = read_oncall(ROSTER, OnCall(ROSTER), store, {"crue": POLICY}, {}, T0)  # type: ignore[arg-type]
    by_id = {i.id: i for i in view.incidents}
    assert by_id[1].due == Due(T0 + timedelta(minutes=15), 1, ("Bob Durand",))
    assert by_id[2].due == Due(T0 + timedelta(minutes=35), None)  # the last level: the escalation ends
    assert by_id[3].due is None  # taken in charge: nothing more is due
    assert by_id[1].deliveries[0].person == "Alice Martin"  # names, not roster ids
    assert [t.now.person for t in view.teams] == ["Alice Martin"]


def test_a_client_reads_back_from_the_api_the_view_the_server_built() -> None:
    paging = Incident(1, "crue", IncidentState.OPEN, T0, 0, 0, T0)
    store = Store([paging], [page("1:page:0:0:alice:email", 1, 0, "alice", DeliveryState.DELIVERED, T0)])
    down = {"sms": T0 + timedelta(minutes=5)}
    view = read_oncall(ROSTER, OnCall(ROSTER), store, {"crue": POLICY}, down, T0)  # type: ignore[arg-type]
    body = OnCallOut.model_validate(view, from_attributes=True).model_dump(mode="json")
    assert body["incidents"][0]["due"]["people"] == ["Bob Durand"]
    assert oncall_from_json(body) == view
