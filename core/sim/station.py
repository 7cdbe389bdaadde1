"""A simulated dam station: an asyncua OPC-UA server fed by the flood model.

The station behaves like a real RTU with a data logger: it timestamps its values at the
source, historizes every change and
answers HistoryRead, so a client that lost the link can backfill. With a history file the log
survives a restart of the station, as a real logger's flash memory does.

Its source timestamps are wall-clock time, or with a :class:`ScenarioClock` the time-lapse's
simulated time (the demo): then a 900 s rate window sees physical rates, not 60× ones, and its
CurrentTime follows the same clock so that the supervision measures no skew.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from asyncua import Server, ua
from asyncua.common.utils import Buffer
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.history import HistoryDict
from asyncua.server.user_managers import UserManager
from asyncua.ua.ua_binary import variant_from_binary, variant_to_binary

from core.clock import ScenarioClock
from core.model import utcnow
from core.sim.flood import DamParameters, FloodModel
from core.sim.scenario import Scenario

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    variant: ua.VariantType
    unit: str


VARIABLES = (
    Variable("Level", ua.VariantType.Double, "m"),
    Variable("Volume", ua.VariantType.Double, "m3"),
    Variable("Inflow", ua.VariantType.Double, "m3/s"),
    Variable("Outflow", ua.VariantType.Double, "m3/s"),
    Variable("OutletFlow", ua.VariantType.Double, "m3/s"),
    Variable("SpillwayFlow", ua.VariantType.Double, "m3/s"),
    Variable("GateOpening", ua.VariantType.Double, "%"),
    Variable("Rain", ua.VariantType.Double, "mm/h"),
    Variable("RainTotal", ua.VariantType.Double, "mm"),
    Variable("Battery", ua.VariantType.Double, "V"),
    Variable("DoorOpen", ua.VariantType.Boolean, ""),
    Variable("Watchdog", ua.VariantType.UInt32, ""),
    Variable("Mode", ua.VariantType.String, ""),
)


def _node_id(name: str, namespace: int) -> ua.NodeId:
    return ua.NodeId.from_string(f"ns={namespace};s={name}")


def _stamp(when: datetime) -> ua.DateTime:
    """asyncua types timestamps as its own datetime subclass; any aware datetime encodes the same."""
    return cast(ua.DateTime, when)


class DataLogger(HistoryDict):
    """The station's data logger: asyncua's in-memory history, persisted to a SQLite file.

    Values are read back from memory (fast HistoryRead); the file only reloads them after a
    restart. Commits are grouped (at most five a second) as a real logger's flash writes are.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS log (node TEXT, ts TEXT, variant BLOB, PRIMARY KEY (node, ts))"
        )
        self._last_commit = 0.0

    async def new_historized_node(self, node_id: ua.NodeId, period: Any, count: int = 0) -> None:
        await super().new_historized_node(node_id, period, count)
        rows = self._db.execute(
            "SELECT ts, variant FROM log WHERE node = ? ORDER BY ts", (node_id.to_string(),)
        )
        for ts, blob in rows:
            when = datetime.fromisoformat(ts)
            variant = variant_from_binary(Buffer(blob))
            self._datachanges[node_id].append(
                ua.DataValue(variant, SourceTimestamp=_stamp(when), ServerTimestamp=_stamp(when))
            )

    async def save_node_value(self, node_id: ua.NodeId, datavalue: ua.DataValue) -> None:
        await super().save_node_value(node_id, datavalue)
        if datavalue.SourceTimestamp is None or datavalue.Value is None:
            return
        self._db.execute(
            "INSERT OR REPLACE INTO log VALUES (?, ?, ?)",
            (node_id.to_string(), datavalue.SourceTimestamp.isoformat(), variant_to_binary(datavalue.Value)),
        )
        now = time.monotonic()
        if now - self._last_commit >= 0.2:
            self._db.commit()
            self._last_commit = now

    async def stop(self) -> None:
        self._db.commit()
        self._db.close()


class _Users(UserManager):
    """Accepts the configured user names and passwords, and records every attempt."""

    def __init__(self, users: Mapping[str, str], logins: list[tuple[str | None, bool]]) -> None:
        self._users, self._logins = dict(users), logins

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None, certificate: Any = None
    ) -> User | None:
        accepted = username is not None and self._users.get(username) == password
        self._logins.append((username, accepted))
        return User(role=UserRole.User) if accepted else None


def station_tick(speed: float, tick: float | None) -> float:
    """Real seconds between a simulated station's updates: a 15-minute rate window needs samples
    closer than a simulated minute, however fast the time-lapse runs."""
    return tick if tick is not None else max(0.05, min(1.0, 60.0 / speed))


class DamStation:
    """One OPC-UA server playing one dam. ``tick_s`` is the wall-clock update period."""

    def __init__(
        self,
        station: str,
        params: DamParameters,
        scenario: Scenario,
        *,
        port: int,
        host: str = "127.0.0.1",
        speed: float = 60.0,
        tick_s: float = 1.0,
        rain_factor: float = 1.0,
        history_db: Path | None = None,
        certificate: Path | None = None,
        private_key: Path | None = None,
        name: str | None = None,
        policies: Sequence[str] = ("Basic256Sha256",),
        users: Mapping[str, str] | None = None,
        clock_offset_s: float = 0.0,
        clock: ScenarioClock | None = None,
    ) -> None:
        """``policies``: the secure policies offered (with a certificate); ``users``: names and
        passwords it accepts (anonymous otherwise); ``clock_offset_s``: how far its clock is off
        (a slow RTU is negative), for its source timestamps and its CurrentTime; ``clock``: the
        time-lapse it stamps on (its physics then follows that clock, not ``speed`` ticks)."""
        self.station = station
        self.endpoint = f"opc.tcp://{host}:{port}/ecreteur/{station}"
        self.model = FloodModel(params, scenario.initial_level_m)
        self.model.gate = scenario.gate_opening
        self.scenario = scenario
        self.speed = speed
        self.tick_s = tick_s
        self.rain_factor = rain_factor
        self._history_db = history_db
        self._certificate = certificate
        self._private_key = private_key
        self._name = name or station
        self._policies = list(policies)
        self.clock_offset = timedelta(seconds=clock_offset_s)
        self.clock = clock
        if clock is not None:
            self.speed = clock.speed
        self.logins: list[tuple[str | None, bool]] = []  # (user, accepted), when users are set
        self._users = users
        self._server = Server(user_manager=_Users(users, self.logins) if users is not None else None)
        self._nodes: dict[str, ua.NodeId] = {}
        self._task: asyncio.Task[None] | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._sim_hours = 0.0
        self._ticks = 0
        self.namespace = f"urn:ecreteur:sim:{station}"

    async def start(self) -> None:
        server = self._server
        if self._history_db is not None:
            self._history_db.parent.mkdir(parents=True, exist_ok=True)
            server.iserver.history_manager.set_storage(DataLogger(self._history_db))
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(f"Écrêteur simulator — {self._name}")
        policies = [ua.SecurityPolicyType.NoSecurity]
        if self._certificate and self._private_key:
            await server.load_certificate(str(self._certificate))
            await server.load_private_key(str(self._private_key))
            for policy in self._policies:
                policies.append(getattr(ua.SecurityPolicyType, f"{policy.replace('_', '')}_SignAndEncrypt"))
        server.set_security_policy(policies)
        if self._users is not None:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        if self.clock_offset or self.clock is not None:
            server.iserver.disabled_clock = True  # its CurrentTime follows its own clock
        ns = await server.register_namespace(self.namespace)
        folder = await server.nodes.objects.add_object(_node_id(self.station, ns), f"{ns}:{self.station}")
        for var in VARIABLES:
            node = await folder.add_variable(
                _node_id(var.name, ns), f"{ns}:{var.name}", ua.Variant(self._initial(var), var.variant)
            )
            self._nodes[var.name] = node.nodeid
        await self.publish()  # physical values first, so the logger never records placeholders
        # the logger is loaded before the port opens: a client that connects at once and reads
        # its gap from the history would otherwise get an empty answer and close the gap for good
        for nodeid in self._nodes.values():
            await server.historize_node_data_change(server.get_node(nodeid), period=timedelta(days=2))
        await server.start()
        self._task = asyncio.create_task(self._run(), name=f"sim-{self.station}")
        if self.clock is not None:
            self._clock_task = asyncio.create_task(self._tell_time(), name=f"sim-clock-{self.station}")
        _LOGGER.info("station %s serving %s", self.station, self.endpoint)

    async def stop(self) -> None:
        tasks = [task for task in (self._task, self._clock_task) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.stop()

    @staticmethod
    def _initial(var: Variable) -> Any:
        if var.variant is ua.VariantType.Boolean:
            return False
        if var.variant is ua.VariantType.UInt32:
            return 0
        if var.variant is ua.VariantType.String:
            return "AUTO"
        return 0.0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        stepped = self.now()
        while True:
            next_tick += self.tick_s
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            if self.clock is None:
                self.step(self.tick_s * self.speed)
            else:  # the physics keeps to the clock the samples are stamped on, even when a tick is late
                now = self.now()
                self.step((now - stepped).total_seconds())
                stepped = now
            await self.publish()

    async def _tell_time(self) -> None:
        """Keep CurrentTime on the time-lapse: at ×600 a once-a-tick update is ten minutes old."""
        node = ua.NodeId.from_string(f"i={ua.ObjectIds.Server_ServerStatus_CurrentTime}")
        while True:
            await asyncio.sleep(0.05)
            await self._server.write_attribute_value(
                node, ua.DataValue(ua.Variant(self.now(), ua.VariantType.DateTime))
            )

    def step(self, sim_seconds: float) -> None:
        """Advance the physics by ``sim_seconds`` of simulated time."""
        rain = self.scenario.rain_at(self._sim_hours) * self.rain_factor
        self.model.advance(sim_seconds, rain)
        self._sim_hours += sim_seconds / 3600.0
        self._ticks += 1

    def values(self) -> dict[str, Any]:
        s, m = self.model.state, self.model
        return {
            "Level": m.level,
            "Volume": s.volume,
            "Inflow": s.inflow,
            "Outflow": m.outflow,
            "OutletFlow": s.outlet,
            "SpillwayFlow": s.spillway,
            "GateOpening": m.gate * 100.0,
            "Rain": s.rain_mm_h,
            "RainTotal": s.rain_total_mm,
            "Battery": 12.6 + 0.3 * math.sin(self._sim_hours * math.pi / 12),
            "DoorOpen": False,
            "Watchdog": self._ticks % 2**32,
            "Mode": "AUTO",
        }

    @property
    def ticks(self) -> int:
        """Updates made since the start (a test waits on it to let the station log a while)."""
        return self._ticks

    async def write(self, name: str, value: Any, stamped: datetime) -> None:
        """Set one variable with a source timestamp of its own (a test of a faulty RTU clock)."""
        var = next(v for v in VARIABLES if v.name == name)
        dv = ua.DataValue(ua.Variant(value, var.variant), SourceTimestamp=_stamp(stamped))
        await self._server.write_attribute_value(self._nodes[name], dv)

    def now(self) -> datetime:
        """The station's own clock (off by ``clock_offset_s``)."""
        return (utcnow() if self.clock is None else self.clock.now()) + self.clock_offset

    async def publish(self) -> None:
        now = self.now()
        if self.clock_offset and self.clock is None:  # a time-lapse's CurrentTime is _tell_time's
            await self._server.write_attribute_value(
                ua.NodeId.from_string(f"i={ua.ObjectIds.Server_ServerStatus_CurrentTime}"),
                ua.DataValue(ua.Variant(now, ua.VariantType.DateTime)),
            )
        values = self.values()
        for var in VARIABLES:
            value = values[var.name]
            dv = ua.DataValue(
                ua.Variant(value, var.variant), SourceTimestamp=_stamp(now), ServerTimestamp=_stamp(now)
            )
            await self._server.write_attribute_value(self._nodes[var.name], dv)
