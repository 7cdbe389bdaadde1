"""An alarm engine and a cascade wired as the runtime wires them, without station links.

For the paging tests in virtual time: samples go straight to the engine, the channels are the
real ones (Twilio through Prism, SMTP through aiosmtpd), and Twilio's webhooks go through the
real FastAPI routes in-process, signed as Twilio signs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from twilio.request_validator import RequestValidator

from core.alarms.engine import AlarmEngine
from core.api.webhooks import add_twilio_webhooks
from core.bus import Bus
from core.clock import LoopClock
from core.config.base import SecretRef
from core.config.schema import SiteConfig
from core.model import Sample
from core.notify import factory
from core.notify.cascade import Cascade
from core.notify.phone import PhoneDesk
from core.notify.store import Delivery
from core.notify.twilio.webhooks import SMS_PATH, STATUS_PATH, VOICE_PATH, Webhooks
from core.storage.paging_sqlite import SqlitePagingStore
from core.storage.sqlite_journal import SQLiteAlarmJournal
from tests.conftest import site
from tests.integration.paging_peers import AUTH_TOKEN, PUBLIC_URL, RecordingProxy, twilio_section

ALICE, BOB, CAROL = "+33611111111", "+33622222222", "+33633333333"


def people() -> list[dict[str, Any]]:
    return [
        {
            "id": "alice",
            "name": "Alice Martin",
            "phone": ALICE,
            "email": "alice@eaux.example",
            "language": "fr",
        },
        {"id": "bob", "name": "Bob Durand", "phone": BOB, "email": "bob@eaux.example", "language": "en"},
        {"id": "carol", "name": "Carole Petit", "phone": CAROL, "language": "fr"},
    ]


def roster(now: datetime, zone: str = "Europe/Paris") -> dict[str, Any]:
    """Alice's on-call week began yesterday at midnight, local time."""
    local = now.astimezone(ZoneInfo(zone))
    yesterday = local - timedelta(days=1)
    handoff = {"day": yesterday.strftime("%A").lower(), "time": "00:00"}
    team = {"id": "astreinte", "name": "Astreinte", "members": ["alice", "carol"],
            "rotation_start": yesterday.date().isoformat(), "handoff": handoff}  # fmt: skip
    return {"timezone": zone, "people": people(), "teams": [team]}


def two_levels(channels1: list[str], channels2: list[str], **level: Any) -> dict[str, Any]:
    return {
        "id": "crue",
        "repeat": 2,
        "levels": [
            {"targets": [{"oncall": "astreinte"}], "channels": channels1, "channel_step_min": 5,
             "delay_min": 15, **level},
            {"targets": [{"person": "bob"}], "channels": channels2, "channel_step_min": 5, "delay_min": 15},
        ],
    }  # fmt: skip


def paging_site(
    twilio: RecordingProxy | None,
    policy: dict[str, Any],
    smtp: dict[str, Any] | None = None,
    base: SiteConfig | None = None,
    now: datetime | None = None,
    priorities: tuple[str, ...] = ("critical",),
    **escalation: Any,
) -> SiteConfig:
    """The given site (or a one-tag site with an HH limit at 4.0 m) with paging configured."""
    from core.model import utcnow

    notify: dict[str, Any] = {}
    if twilio is not None:
        notify["twilio"] = {**twilio_section(twilio), "auth_token": SecretRef("twilio_token")}
    if smtp is not None:
        notify["smtp"] = smtp
    paging = {
        "roster": roster(now or utcnow()),
        "escalation": {"routes": [{"priorities": list(priorities), "policy": policy["id"]}],
                       "policies": [policy], **escalation},
        "notify": notify,
    }  # fmt: skip
    if base is not None:
        return SiteConfig.model_validate(
            {**base.model_dump(exclude={"roster", "escalation", "notify"}), **paging}
        )
    return site(
        [{"id": "lauragais", "name": "Barrage de la Ganguise", "endpoint": "opc.tcp://127.0.0.1:1/"}],
        [{"id": "lauragais.level", "station": "lauragais", "node": "ns=2;s=Level", "unit": "m",
          "label": {"fr": "Niveau", "en": "Level"}}],
        alarms=[{"id": "level", "tags": "lauragais.level", "kind": "limits",
                 "limits": {"HH": {"value": 4.0}, "H": {"value": 3.5}}}],
        **paging,
    )  # fmt: skip


@dataclass
class PagingBench:
    config: SiteConfig
    engine: AlarmEngine
    cascade: Cascade
    journal: SQLiteAlarmJournal
    webhooks: Webhooks | None
    app: FastAPI = field(default_factory=FastAPI)

    def __post_init__(self) -> None:
        add_twilio_webhooks(self.app, self)

    @property
    def phone(self) -> PhoneDesk:
        return self.cascade.phone

    def level(self, value: float) -> None:
        self.engine.on_samples([Sample("lauragais.level", self.engine.clock.now(), value)])

    def deliveries(self, kind: str | None = None) -> list[Delivery]:
        return [d for d in self.cascade.store.deliveries() if kind is None or d.kind == kind]

    async def post(self, path: str, params: dict[str, str], *, signature: str | None = None,
                   token: str | None = None) -> httpx.Response:  # fmt: skip
        """A webhook as Twilio sends it: form-encoded, signed over the public URL."""
        if signature is None:
            signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, params)
        headers = {"X-Twilio-Signature": signature}
        if token:
            headers["I-Twilio-Idempotency-Token"] = token
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(path, data=params, headers=headers)

    async def sms_reply(self, phone: str, body: str, **kwargs: Any) -> httpx.Response:
        params = {"From": phone, "To": "+33500000000", "Body": body, "MessageSid": "SM" + "1" * 32}
        return await self.post(SMS_PATH, params, **kwargs)

    async def status(self, key: str, status: str, **kwargs: Any) -> httpx.Response:
        from urllib.parse import quote

        params = {"MessageSid": "SM" + "2" * 32, "MessageStatus": status}
        return await self.post(f"{STATUS_PATH}?d={quote(key, safe='')}", params, **kwargs)

    async def keypress(self, key: str, digits: str) -> httpx.Response:
        from urllib.parse import quote

        params = {"CallSid": "CA" + "3" * 32, "Digits": digits, "To": ALICE}
        return await self.post(f"{VOICE_PATH}?d={quote(key, safe='')}", params)

    async def settled(self) -> None:
        """Wait until no delivery is in flight (a real peer answers in real time, not virtual)."""
        from core.notify.store import RETRY, SENDING

        for _ in range(2000):
            await asyncio.sleep(0.05)
            if not any(d.state in (SENDING, RETRY) for d in self.deliveries()):
                return
        raise AssertionError("deliveries still in flight")

    async def stop(self) -> None:
        await self.cascade.stop()
        await self.engine.stop()
        await self.journal.stop()


async def start_bench(
    config: SiteConfig,
    directory: Path,
    clock: LoopClock | None = None,
    leading: Callable[[], bool] | None = None,
) -> PagingBench:
    """The engine and the cascade on ``directory``'s stores; a restart passes the same clock
    (a new one would anchor the virtual time again)."""
    bus = Bus()
    journal = SQLiteAlarmJournal(directory / "alarms.db")
    await journal.start()
    engine = AlarmEngine(config, bus, journal, clock or LoopClock())
    await engine.start()
    accounts = factory.build(config.notify)
    store = SqlitePagingStore(directory / "notify.db")
    cascade = Cascade(config, bus, engine.clock, store, accounts.channels,
                      engine.acknowledge, engine.situation, leading)  # fmt: skip
    await cascade.start()
    return PagingBench(config, engine, cascade, journal, accounts.webhooks)
