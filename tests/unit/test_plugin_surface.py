"""The source plugin's surface (docs/PLUGINS.md): what a plugin may use, and that it holds.

Modelled on httpx's tests/test_exported_members.py: a member added to or removed from
``SourceLink`` without the documentation knowing fails here, and every built-in source (the
OPC-UA link included) is a ``SourceLink``, so a plugin gets what the built-in ones get.
"""

from __future__ import annotations

import asyncio
import math
import re
from datetime import UTC, datetime, timedelta

import pytest

from core.acquisition.api import ApiLink
from core.acquisition.link import SourceLink
from core.acquisition.opcua import StationLink
from core.bus import SAMPLES, Bus
from core.clock import WallClock
from core.model import ConnectionState, Quality, Sample
from tests.conftest import REPO, site

PUBLIC = {
    # what run() calls
    "run", "publish", "mark_lost", "set_state", "publish_status", "reject", "stopped", "pause",
    "until_stopped", "station_now", "batch_window_s",
    # what the runtime calls and reads
    "start", "stop", "hand_over", "station", "tags", "bus", "clock", "endpoint", "state", "detail",
    "reason", "fault", "clock_skew_s", "received", "backfilled", "rejected", "connections", "restamped",
    "retry_in", "store", "retention",
}  # fmt: skip
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
CONFIG = site(
    [{"id": "dam", "endpoint": "opc.tcp://127.0.0.1:4840/"}],
    [
        {"id": "dam.level", "station": "dam", "node": "ns=2;s=L"},
        {"id": "dam.flow", "station": "dam", "node": "ns=2;s=Q"},
    ],
)


class Stopped(WallClock):
    """The station's clock stands still at NOW: the markers' times are exact."""

    def now(self) -> datetime:
        return NOW


def public_members(link: SourceLink) -> set[str]:
    return {name for name in {*dir(type(link)), *vars(link)} if not name.startswith("_")}


def test_the_source_link_offers_exactly_the_documented_surface() -> None:
    link = SourceLink(CONFIG.stations[0], CONFIG.tags, Bus())
    assert public_members(link) == PUBLIC
    guide = (REPO / "docs" / "PLUGINS.md").read_text(encoding="utf-8")
    sources = guide[guide.index("## Sources") :]
    used = set(re.findall(r"self\.(\w+)", sources))
    assert used and used <= PUBLIC, f"the guide tells plugins to use {sorted(used - PUBLIC)}"


@pytest.mark.parametrize("kind", [StationLink, ApiLink])
def test_every_built_in_source_is_a_source_link_with_nothing_public_of_its_own_but_its_hooks(
    kind: type[SourceLink],
) -> None:
    link = kind(CONFIG.stations[0], CONFIG.tags, Bus())
    assert isinstance(link, SourceLink)
    assert public_members(link) - PUBLIC <= {"received_now"}  # the API's posts reach their link


@pytest.mark.parametrize("kind", [SourceLink, StationLink])
async def test_a_loss_sends_the_batch_in_progress_then_one_marker_per_tag_once(
    kind: type[SourceLink],
) -> None:
    """The OPC-UA link used to mark every tag again at each loss and not flush first; it now
    behaves as every source does: a tag already marked lost gets no second marker until a value
    comes back, and a value queued before the loss is never overtaken by the marker."""
    bus, batches = Bus(), []
    bus.subscribe(SAMPLES, lambda batch: batches.append(list(batch)))
    link = kind(CONFIG.stations[0], CONFIG.tags, bus, clock=Stopped())
    link.publish(Sample("dam.level", NOW, 12.5, Quality.GOOD))
    link.mark_lost()
    assert [s.value for s in batches[0]] == [12.5]  # the value first
    assert [(s.tag, s.quality, math.isnan(s.value)) for s in batches[1]] == [
        ("dam.level", Quality.BAD, True),
        ("dam.flow", Quality.BAD, True),
    ]
    assert batches[1][0].ts > NOW  # never stamped before the tag's last value
    link.mark_lost()  # still lost: nothing new to say
    assert len(batches) == 2
    link.publish(Sample("dam.level", NOW + timedelta(minutes=1), 12.6, Quality.GOOD))
    link.mark_lost()
    assert [s.tag for s in batches[-1]] == ["dam.level"] and batches[-2][0].value == 12.6
    await asyncio.sleep(0)  # the flush scheduled by publish finds nothing left to send
    assert len(batches) == 4


async def test_pause_returns_as_soon_as_the_link_is_stopped() -> None:
    link = SourceLink(CONFIG.stations[0], CONFIG.tags, Bus())
    waiting = asyncio.create_task(link.pause(3600))
    await asyncio.sleep(0)
    await link.stop()
    await asyncio.wait_for(waiting, 5)
    assert link.stopped and link.state is ConnectionState.STOPPED
