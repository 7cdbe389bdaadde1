"""Typed models of the site config: one YAML file, Home Assistant style.

The models forbid unknown keys so that a typo is an error, not a silently ignored setting.
The JSON Schema that editors use for completion is generated from these classes
(``ecreteur schema``), so they are the single source of truth for the file format.

The sections with rules of their own have their own files: alarms, notify, dashboards, reservoir.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from core.config.alarms import AlarmRule, AlarmSettings
from core.config.base import IDENT, TAG_ID, Labels, Secret, States
from core.config.base import StrictModel as _Model
from core.config.dashboards import Dashboard
from core.config.notify import Escalation, Notify, Roster
from core.config.reservoir import Reservoir


def matching(pattern: str, ids: list[str], known: set[str] | None = None) -> list[str]:
    """The ids a rule's pattern selects; a plain id is a set lookup, not a scan of every tag."""
    if not any(char in pattern for char in "*?["):
        return [pattern] if pattern in (known if known is not None else set(ids)) else []
    return fnmatch.filter(ids, pattern)


class Site(_Model):
    name: str
    timezone: str = Field("Europe/Paris", description="an IANA time zone, e.g. Europe/Paris")
    language: Literal["fr", "en"] = "fr"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; an IANA name such as Europe/Paris") from None
        return value


class SecurityMode(StrEnum):
    NONE = "None"
    SIGN = "Sign"
    SIGN_AND_ENCRYPT = "SignAndEncrypt"


class Security(_Model):
    """OPC-UA message security of one station."""

    mode: SecurityMode = SecurityMode.NONE
    policy: Literal["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"] = "Basic256Sha256"
    certificate: str | None = Field(None, description="client certificate (DER or PEM)")
    private_key: str | None = Field(None, description="client private key (PEM)")
    server_certificate: str | None = Field(None, description="pinned server certificate")


SOURCES = ("opcua", "mqtt", "api")  # built in; a plugin adds others (``core/plugins.py``)


class MqttSession(_Model):
    """How an MQTT station's broker is reached; ``user`` and ``password`` are the station's."""

    client_id: str | None = Field(
        None,
        description="the persistent session's name at the broker; default: ecreteur-<host>-<station>-<data "
        "folder>, so that two processes never take each other's session",
    )
    qos: Literal[0, 1, 2] = Field(1, description="1: nothing lost, a duplicate now and then (stored once)")
    keepalive_s: int = Field(30, ge=5, le=3600)
    ca_file: str | None = Field(
        None, description="PEM bundle to trust for mqtts:// instead of the system one"
    )


class Station(_Model):
    """A dam's PLC/RTU reached over OPC-UA, an MQTT broker's topics, or tags posted to the API."""

    id: str = Field(pattern=IDENT)
    name: str
    source: str = Field(
        "opcua",
        description="opcua (a PLC/RTU), mqtt (a broker's topics), api (tags posted to the REST API), "
        "or a plugin's source",
    )
    endpoint: str | None = Field(
        None, description="opc.tcp://host:port/path, or mqtt://host:port (mqtts:// with TLS) for mqtt"
    )
    mqtt: MqttSession = MqttSession()
    expected_period_s: float = Field(
        300.0,
        gt=0,
        le=86_400,
        description="api and mqtt: the link counts as lost when no value came for this long",
    )
    options: dict[str, Any] = Field(default_factory=dict, description="a plugin source's own settings")
    security: Security = Security()
    user: str | None = None
    password: Secret | None = None
    publishing_interval_ms: int = Field(500, ge=10, le=60_000)
    reconnect_max_delay_s: float = Field(30.0, gt=0, le=3600)
    timeout_s: float = Field(4.0, gt=0, le=120)
    backfill: bool = Field(True, description="fill gaps after a reconnection with HistoryRead")
    max_clock_skew_s: float = Field(
        60.0, gt=0, le=86_400, description="alarm when the station's clock is further off than this"
    )
    reservoir: Reservoir | None = Field(
        None,
        description="the dam's stage–storage and outflow laws: the crest forecast routes floods with them",
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return value
        found = re.match(r"^(opc\.tcp|mqtts?)://[^/:]+(:(\d+))?(/.*)?$", value)
        if not found:
            raise ValueError(
                "expected an OPC-UA URL such as opc.tcp://10.0.0.5:4840/ (mqtt://host:1883 for MQTT)"
            )
        if found.group(3) is not None and not 1 <= int(found.group(3)) <= 65535:
            raise ValueError(f"port {found.group(3)} is not between 1 and 65535")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Station:
        scheme = (self.endpoint or "").split("://")[0]
        if self.source == "opcua" and scheme != "opc.tcp":
            raise ValueError("an opcua station needs an `endpoint` such as opc.tcp://10.0.0.5:4840/")
        if self.source == "mqtt" and scheme not in ("mqtt", "mqtts"):
            raise ValueError("an mqtt station needs its broker's `endpoint`, e.g. mqtt://10.0.0.9:1883")
        if self.source == "api" and self.endpoint is not None:
            raise ValueError("an api station has no `endpoint`: its tags are posted to /api/v1/samples")
        return self


class MqttTopic(_Model):
    """One tag's topic and how its payload maps to a value (and a time, which makes duplicates harmless)."""

    topic: str = Field(min_length=1, description="e.g. site/pluvio/rain (no wildcards: one tag, one topic)")
    value: str = Field(
        "$", description="$: the payload is the number; $.rain or $.data[0].v: a JSON payload's field"
    )
    time: str | None = Field(
        None,
        description="a JSON field with the ISO 8601 time of the measure, e.g. $.ts; default: when it arrives",
    )

    @field_validator("topic")
    @classmethod
    def _exact(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("a tag's topic is exact: no + or # wildcards")
        return value

    @field_validator("value", "time")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None:
            json_path(value)  # raises ValueError with what is wrong
        return value


_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")


def json_path(path: str) -> list[str | int]:
    """The steps of a small JSON path: ``$``, then ``.field`` and ``[index]``."""
    if not path.startswith("$"):
        raise ValueError(f"a JSON path starts with $, e.g. $.level (got {path!r})")
    steps: list[str | int] = []
    at = 1
    while at < len(path):
        found = _STEP.match(path, at)
        if found is None:
            raise ValueError(f"unexpected {path[at:]!r} in JSON path {path!r}; use $.field or $.list[0]")
        steps.append(found.group(1) if found.group(1) is not None else int(found.group(2)))
        at = found.end()
    return steps


class TagKind(StrEnum):
    ANALOG = "analog"
    DISCRETE = "discrete"


class TagRole(StrEnum):
    """What a tag is for on its dam: the overview, the synoptic and the pages find it by this."""

    LEVEL = "level"
    VOLUME = "volume"
    INFLOW = "inflow"
    OUTFLOW = "outflow"
    SPILLWAY_FLOW = "spillway_flow"
    GATE = "gate"
    RAIN = "rain"
    RAIN_TOTAL = "rain_total"
    BATTERY = "battery"
    DOOR = "door"
    WATCHDOG = "watchdog"


class Tag(_Model):
    """One variable of a station: how to find it and how to show it."""

    id: str = Field(pattern=TAG_ID, description="station.name, e.g. lauragais.level")
    station: str
    node: str | None = Field(None, description="OPC-UA node id, e.g. ns=2;s=Level")
    browse_path: str | None = Field(None, description="e.g. 0:Objects/2:Lauragais/2:Level")
    kind: TagKind = TagKind.ANALOG
    unit: str = ""
    range: tuple[float, float] | None = Field(None, description="engineering range [min, max]")
    decimals: int = Field(2, ge=0, le=6)
    label: Labels
    role: TagRole | None = Field(
        None,
        description="what it is for on its dam (level, inflow, rain…); default: the end of its id "
        "when that is a role, e.g. lauragais.level",
    )
    sampling_ms: int = Field(
        0, ge=0, le=3_600_000, description="0: every change the station makes (the default)"
    )
    mqtt: MqttTopic | None = Field(None, description="where an mqtt station publishes this tag")
    states: States | None = Field(
        None, description="discrete tags: the words for 0 and 1 (default: a door's open/closed, else on/off)"
    )

    @model_validator(mode="after")
    def _states_for_discrete(self) -> Tag:
        if self.states is not None and self.kind is not TagKind.DISCRETE:
            raise ValueError(
                "`states` names the two values of a discrete tag: add `kind: discrete` or remove it"
            )
        return self


class Cassandra(_Model):
    """Where the Cassandra historian lives, and how it replicates and spools."""

    contact_points: list[str] = Field(default_factory=lambda: ["127.0.0.1"], min_length=1)
    port: int = Field(9042, ge=1, le=65535)
    keyspace: str = Field("ecreteur", pattern=IDENT)
    replication: Literal["SimpleStrategy", "NetworkTopologyStrategy"] = "SimpleStrategy"
    replication_factor: int = Field(1, ge=1, le=9, description="SimpleStrategy: copies of each sample")
    datacenters: dict[str, int] = Field(
        default_factory=dict, description="NetworkTopologyStrategy: copies per datacenter, e.g. {dc1: 3}"
    )
    local_datacenter: str | None = None
    consistency: Literal["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL"] = Field(
        "LOCAL_QUORUM", description="ONE suits a single node; LOCAL_QUORUM a replicated cluster"
    )
    username: str | None = None
    password: Secret | None = None
    partition_hours: int = Field(24, ge=1, le=24 * 7, description="time span of one partition of a tag")
    max_in_flight: int = Field(128, ge=1, le=4096, description="concurrent write requests")
    timeout_s: float = Field(10.0, gt=0, le=120)
    spool_path: str = Field("var/ecreteur.spool.db", description="local store-and-forward spool")
    spool_max_samples: int = Field(50_000_000, ge=1_000)
    commitlog_sync_s: float = Field(
        10.0,
        ge=0,
        le=600,
        description="the cluster's commitlog_sync_period (periodic sync, Cassandra's default 10 s): "
        "what a killed node may not have on disk, kept here to be written again; 0 with batch or group sync",
    )
    lease_ttl_s: int = Field(
        15,
        ge=3,
        le=300,
        description="redundant servers: the pager's lease; a dead leader is replaced within it",
    )


class Storage(_Model):
    backend: Literal["sqlite", "cassandra"] = "sqlite"
    path: str = Field("var/ecreteur.db", description="SQLite file; with Cassandra, the journals' base name")
    retention_days: int = Field(3650, ge=1)
    durability: Literal["power_cut", "process_crash"] = Field(
        "power_cut",
        description="what an acknowledged sample or alarm event survives in SQLite: a power cut "
        "(fsync at each commit) or a crash of the process only (faster)",
    )
    cassandra: Cassandra = Cassandra()


class Tls(_Model):
    certificate: str = Field(description="PEM certificate chain")
    private_key: str = Field(description="PEM private key")


class Links(_Model):
    """Incident links in pages, e-mails and SMS (``core.notify.links``): open the incident and
    acknowledge it with one confirmation, without signing in."""

    public_url: str = Field(
        pattern=r"^https?://[^/\s]+(/\S*)?$",
        description="the address at which on-call staff reach this server's pages, e.g. https://scada.example",
    )
    valid_min: float = Field(120.0, gt=0, le=7 * 1440, description="a link works this long after its page")
    secret: Secret | None = Field(
        None, description="the signing key (redundant servers share one); default: a key file beside the data"
    )


class Api(_Model):
    """The REST API of ``ecreteur server``."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    tls: Tls | None = None
    max_batch: int = Field(10_000, ge=1, le=1_000_000, description="samples per POST /samples")
    max_body_bytes: int = Field(4_000_000, ge=1_000)
    max_future_s: float = Field(300.0, ge=0, description="refuse samples stamped further in the future")
    request_deadline_s: float = Field(
        15.0, gt=0, le=600, description="a request must arrive whole within this, or its connection is closed"
    )
    links: Links | None = Field(None, description="incident links in pages; none without it")
    embed_origins: list[Annotated[str, Field(pattern=r"^https?://[^/\s]+$")]] = Field(
        default_factory=list,
        description="origins (e.g. https://portail.example) whose pages may frame the read-only /embed view",
    )
    stream_ring_mib: float = Field(
        32.0,
        gt=0,
        le=4096,
        description="the event stream keeps this much of its last events for clients that resume",
    )
    stream_client_mib: float = Field(
        8.0,
        gt=0,
        le=1024,
        description="a stream client further behind than this is closed with 1013 (it resumes)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="reverse proxies (addresses or networks, e.g. 127.0.0.1 or 10.0.0.0/24) whose "
        "X-Forwarded-For names the client; from anyone else the header is ignored",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network such as 10.0.0.0/24") from None
        return proxies


class SiteConfig(_Model):
    """The whole site: what ``ecreteur check-config`` validates."""

    site: Site
    stations: list[Station] = Field(min_length=1)
    tags: list[Tag] = Field(min_length=1)
    storage: Storage = Storage()
    alarms: list[AlarmRule] = Field(default_factory=list)
    alarm_settings: AlarmSettings = AlarmSettings()
    api: Api = Api()
    roster: Roster | None = None
    escalation: Escalation | None = None
    notify: Notify = Notify()
    dashboards: list[Dashboard] = Field(default_factory=list)

    def station(self, station_id: str) -> Station:
        for station in self.stations:
            if station.id == station_id:
                return station
        raise KeyError(station_id)

    @cached_property
    def _tags_by_id(self) -> dict[str, Tag]:
        return {tag.id: tag for tag in self.tags}

    def tag(self, tag_id: str) -> Tag | None:
        """The tag with this id, or None (a dictionary lookup: views call it per sample)."""
        return self._tags_by_id.get(tag_id)

    def tags_of(self, station_id: str) -> list[Tag]:
        return [tag for tag in self.tags if tag.station == station_id]
