"""Which link each station gets: by its ``source``, built in or offered by a plugin."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.acquisition.api import ApiLink
from core.acquisition.link import SourceLink
from core.acquisition.opcua import LastTimestamp, StationLink
from core.acquisition.trust import TrustStore
from core.bus import Bus
from core.clock import Clock
from core.config.schema import Station, Tag
from core.model import ConnectionState
from core.plugins import SOURCES, PluginUnavailable, describe, load


class UnavailableLink(SourceLink):
    """A station whose plugin source could not be had: it stays down and says why."""

    def __init__(self, station: Station, tags: Sequence[Tag], bus: Bus, why: str) -> None:
        super().__init__(station, tags, bus)
        self.why = why

    async def run(self) -> None:
        self.fault = "plugin"
        self.set_state(ConnectionState.DISCONNECTED, self.why, "plugin")
        while not self.stopped:
            await self.pause(3600)


def build_link(
    station: Station,
    tags: Sequence[Tag],
    bus: Bus,
    *,
    clock: Clock | None,
    last_timestamp: LastTimestamp,
    base_dir: Path,
    data_dir: Path,
    trust: TrustStore,
    trust_command: str,
    persistent: bool = True,
) -> SourceLink:
    if station.source == "opcua":
        return StationLink(
            station,
            tags,
            bus,
            last_timestamp=last_timestamp,
            base_dir=base_dir,
            trust=trust,
            trust_command=trust_command,
            clock=clock,  # a time-lapse's; otherwise the wall clock, never the loop's drift
        )
    if station.source == "api":
        return ApiLink(station, tags, bus, clock)
    if station.source == "mqtt":
        from core.acquisition.mqtt import MqttLink  # aiomqtt only where a site uses MQTT

        install = str(data_dir.resolve())
        return MqttLink(station, tags, bus, clock, install=install, base_dir=base_dir, persistent=persistent)
    try:
        create: Any = load(SOURCES, station.source)
        link: SourceLink = create(station, list(tags), bus, clock)
    except PluginUnavailable as err:
        return UnavailableLink(station, tags, bus, str(err))
    except Exception as err:  # the plugin's own constructor raised
        why = f"{describe(SOURCES, station.source)} raised {type(err).__name__}: {err}"
        return UnavailableLink(station, tags, bus, why)
    return link
