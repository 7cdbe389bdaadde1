"""A desktop as a client of its site's server: one alarm truth for every control-room PC.

The server is the authority (DESIGN.md, "Deployment"): its alarm picture reaches the desktop
through the event stream (``GET /api/v1/events``: a snapshot, then numbered alarm events;
after a blip the desktop resumes from its last number and misses nothing), and every operator
command goes to the server's REST API in the signed-in operator's name, so the journal, the
audit trail and the pager are the server's alone. The desktop never pages.

When the server cannot be reached (refused, closed, or silent for a few seconds: the link
pings it every second) the board says so at once and shows the alarms this desktop evaluates
from its own station links, marked ``local``, so that the control room keeps annunciating;
commands are refused with the reason until the server is back, since an acknowledgement the
server never heard of would be a second truth. On reconnection the server's picture replaces
the local one.

The session itself (sign-in, the site's servers in turn, the stream's socket) is ``session.py``;
this module is the board built on it and the commands sent through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from core.alarms.engine import AlarmEngine
from core.alarms.journal import AlarmJournal
from core.alarms.view import AlarmView, annunciation_order
from core.bus import ALARMS, Bus
from core.client.session import Session, bearer, detail_of, read_stream
from core.model import AlarmEvent, AlarmStatus, Bucket, CrestForecast, utcnow
from core.site.board import Authority, Listener, stored_loss
from core.site.oncall import OnCallView
from core.site.operations import Actor, Forbidden, Invalid, NotNow, OperationError, UnknownAlarm
from core.site.wire import event_from_json, instant, oncall_from_json, view_from_json
from core.storage.audit import ActiveMode
from core.storage.base import Historian

_LOGGER = logging.getLogger(__name__)
_RETRY_MAX_S = 3.0


class ServerUnreachable(NotNow):
    """The server cannot be reached: the command was not carried."""


class ServerBoard:
    """The alarm board of a desktop connected to its server (see the module's docstring)."""

    def __init__(
        self,
        session: Session,
        bus: Bus,
        engine: AlarmEngine,
        journal: AlarmJournal,
        historian: Historian,
    ) -> None:
        self.session = session
        self._engine, self._journal, self._historian = engine, journal, historian
        self._listeners: list[Listener] = []
        self._views: dict[str, AlarmView] = {}
        self._authority = Authority(session.url, False, utcnow(), "connecting")
        self.epoch: str | None = None
        self.seq: int | None = None
        self.snapshots = 0  # how many full pictures the server had to send (resumes avoid them)
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._unsubscribe = bus.subscribe(ALARMS, self._local_event)
        self.language: str = engine.config.site.language  # the desktop's: a refusal is asked for in it

    # -- the read side --------------------------------------------------------------------

    @property
    def authority(self) -> Authority:
        return self._authority

    def views(self) -> list[AlarmView]:
        if self._authority.reachable:
            return sorted(self._views.values(), key=annunciation_order)
        return [replace(view, local=True) for view in self._engine.views()]

    def limits(self, tag_id: str) -> dict[str, float]:
        return self._engine.limits(tag_id)  # the same site config as the server's

    def crest(self, station: str) -> CrestForecast | None:
        return self._engine.crest(station)  # routed here from the same live samples as the server's

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, event: AlarmEvent | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _LOGGER.exception("alarm board listener failed")

    def _local_event(self, event: AlarmEvent) -> None:
        """The desktop's own evaluation: annunciated only while the server is lost."""
        if not self._authority.reachable:
            self._notify(event)

    # -- the link ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._http = httpx.AsyncClient(verify=self.session.verify(), timeout=10)
        self._task = asyncio.create_task(self._run(), name="server link")

    async def stop(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http is not None:
            await self._http.aclose()

    def _set_reachable(self, reachable: bool, detail: str) -> None:
        if reachable == self._authority.reachable and detail == self._authority.detail:
            return
        changed = reachable != self._authority.reachable
        self._authority = Authority(self.session.url, reachable, utcnow(), detail)
        if changed:
            (_LOGGER.info if reachable else _LOGGER.warning)("server %s: %s", self.session.url, detail)
            self._notify(None)

    def _stream_url(self) -> str:
        url = self.session.api.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/events"
        url += "?kinds=alarm"
        if self.epoch is not None and self.seq is not None:
            url += f"&epoch={self.epoch}&since={self.seq}"
        return url

    async def _run(self) -> None:
        delay = 0.2
        while True:

            def opened() -> None:
                nonlocal delay
                delay = 0.2

            reason = await read_stream(self.session, self._stream_url(), self._receive, opened)
            self._set_reachable(False, reason)
            if self.session.others:  # redundant servers share sessions: go on with the next one
                self.session = self.session.next_server()
                _LOGGER.info("trying the site's next server, %s", self.session.url)
                self._set_reachable(False, f"{reason}; trying {self.session.url}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_S)

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "hello":
            if message["epoch"] != self.epoch:
                self.seq = None  # another run of the server: a snapshot follows
            self.epoch = message["epoch"]
            return
        if kind == "snapshot":
            self._views = {v.id: v for v in map(view_from_json, message["alarms"])}
            self.seq = message["seq"]
            self.snapshots += 1
            self._set_reachable(True, "connected")
            self._notify(None)
            return
        if kind == "alarm":
            self.seq = message["seq"]
            if "alarm" in message:
                view = view_from_json(message["alarm"])
                if view.status is AlarmStatus.NORMAL:
                    self._views.pop(view.id, None)
                else:
                    self._views[view.id] = view
            self._set_reachable(True, "connected")  # a resume sends no snapshot
            self._notify(event_from_json(message["event"]))
            return
        if "seq" in message:
            self.seq = message["seq"]

    # -- the command side ---------------------------------------------------------------------

    async def _command(self, alarm_id: str, action: str, body: dict[str, Any]) -> None:
        await self._post(f"{self.session.api}/alarms/{quote(alarm_id, safe='')}/{action}", body)

    async def _post(self, url: str, body: dict[str, Any]) -> None:
        """A command in the signed-in operator's name (the server ignores ``user`` for a session)."""
        if not self._authority.reachable or self._http is None:
            raise ServerUnreachable("unreachable", url=self.session.url)
        try:
            headers = {**bearer(self.session.token), "Accept-Language": self.language}  # its refusal, in ours
            answer = await self._http.post(url, json={"user": self.session.user, **body}, headers=headers)
        except httpx.HTTPError as err:
            raise ServerUnreachable("no_answer", why=str(err) or type(err).__name__) from err
        _raise_for(answer)

    async def acknowledge(self, actor: Actor, alarm_id: str, comment: str = "") -> None:
        await self._command(alarm_id, "ack", {"comment": comment})

    async def shelve(self, actor: Actor, alarm_id: str, reason: str, duration: timedelta) -> None:
        await self._command(
            alarm_id, "shelve", {"reason": reason, "duration_min": duration.total_seconds() / 60}
        )

    async def unshelve(self, actor: Actor, alarm_id: str, comment: str = "") -> None:
        await self._command(alarm_id, "unshelve", {"comment": comment})

    async def reset(self, actor: Actor, alarm_id: str, comment: str = "") -> None:
        await self._command(alarm_id, "reset", {"comment": comment})

    async def remove_from_service(self, actor: Actor, alarm_id: str, reason: str) -> None:
        await self._command(alarm_id, "out-of-service", {"reason": reason})

    async def return_to_service(self, actor: Actor, alarm_id: str, reason: str = "") -> None:
        await self._command(alarm_id, "in-service", {"reason": reason or "-"})

    async def modes(self) -> list[ActiveMode]:
        body = await self._get("/modes", {})
        if body is None:
            return []
        return [
            ActiveMode(m["mode"], m["station"], instant(m["since"]), m["user"], m["reason"]) for m in body
        ]

    async def set_mode(self, actor: Actor, mode: str, station: str | None, on: bool, reason: str) -> None:
        body = {"station": station, "on": on, "reason": reason}
        await self._post(f"{self.session.api}/modes/{quote(mode, safe='')}", body)

    # -- history: the server's, this desktop's own while the server is lost -------------------

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        if not self._authority.reachable or self._http is None:
            return None
        try:
            answer = await self._http.get(f"{self.session.api}{path}", params=params,
                                          headers=bearer(self.session.token))  # fmt: skip
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None

    async def journal(self, start: datetime, end: datetime, limit: int) -> list[AlarmEvent]:
        params = {"from": start.isoformat(), "to": end.isoformat(), "limit": min(limit, 10_000)}
        body = await self._get("/alarms/journal", params)
        if body is None:
            await self._journal.flush()
            return await self._journal.events(start, end, limit=limit)
        return sorted((event_from_json(e) for e in body["entries"]), key=lambda e: e.ts)

    async def oncall(self) -> OnCallView | None:
        body = await self._get("/oncall", {})
        return oncall_from_json(body) if body is not None else None

    async def downsampled(self, tag: str, start: datetime, end: datetime, points: int) -> list[Bucket]:
        params = {"from": start.isoformat(), "to": end.isoformat(), "max_points": points}
        body = await self._get(f"/tags/{quote(tag, safe='')}/history", params)
        if body is None:
            return await self._historian.downsampled(tag, start, end, points)
        return [Bucket(instant(b["start"]), b["min"], b["max"], b["avg"], b["last"], b["count"])
                for b in body["buckets"]]  # fmt: skip

    async def lost(self, tag: str, start: datetime, end: datetime) -> bool:
        params = {"from": start.isoformat(), "to": end.isoformat(), "max_points": 10, "agg": "raw"}
        body = await self._get(f"/tags/{quote(tag, safe='')}/history", params)
        if body is None:
            return await stored_loss(self._historian, tag, start, end)
        return any(sample["quality"] == "bad" for sample in body["samples"])


_REFUSALS: dict[int, type[OperationError]] = {403: Forbidden, 404: UnknownAlarm, 409: NotNow, 422: Invalid}


def _raise_for(answer: httpx.Response) -> None:
    if answer.status_code == 200:
        return
    refusal = _REFUSALS.get(answer.status_code)
    if refusal is not None:
        raise refusal.heard(detail_of(answer))  # said by the server in this desktop's language
    raise ServerUnreachable("server_failed", detail=detail_of(answer))
