"""Failover and stalls: an escalation never silently skips a level.

Run on the loop's virtual clock (looptime) against Prism: a supervisor that is down longer than
a level's delay pages, at restart, every level whose time has passed, each message saying how
late it is, and gives the people just paged the level's full time to answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.clock import LoopClock
from tests.integration.paging_bench import ALICE, BOB, paging_site, start_bench, two_levels
from tests.integration.paging_peers import RecordingProxy

pytestmark = [pytest.mark.looptime, pytest.mark.paging, pytest.mark.usefixtures("credentials")]


async def test_a_server_down_past_level_two_pages_it_late_at_restart_and_does_not_give_up(
    tmp_path: Path, twilio: RecordingProxy
) -> None:
    policy = {**two_levels(["sms"], ["sms"]), "repeat": 1}  # 15 min + 15 min, once
    config = paging_site(twilio, policy)
    clock = LoopClock()
    bench = await start_bench(config, tmp_path, clock)
    bench.level(4.5)
    await bench.settled()
    assert [p.form["To"] for p in twilio.pages()] == [ALICE]
    await bench.stop()  # the only server stops for 31 minutes

    await asyncio.sleep(31 * 60)
    bench = await start_bench(config, tmp_path, clock)
    await bench.settled()
    pages = twilio.pages()
    assert [p.form["To"] for p in pages] == [ALICE, BOB]  # level 1 not again, level 2 not skipped
    assert pages[1].form["Body"].startswith("LATE by 16 min — [1] CRITICAL")  # Bob reads English
    incident = bench.cascade.store.incident(1)
    assert incident is not None and incident.state == "open"  # Bob gets his 15 minutes to answer

    await asyncio.sleep(14 * 60)
    await bench.settled()
    assert bench.cascade.store.incident(1).state == "open"  # type: ignore[union-attr]
    await asyncio.sleep(2 * 60)
    await bench.settled()
    assert bench.cascade.store.incident(1).state == "exhausted"  # type: ignore[union-attr]
    assert len(twilio.pages()) == 2 and twilio.invalid() == []
    await bench.stop()


async def test_on_time_levels_are_not_marked_late(tmp_path: Path, twilio: RecordingProxy) -> None:
    bench = await start_bench(paging_site(twilio, {**two_levels(["sms"], ["sms"]), "repeat": 1}), tmp_path)
    bench.level(4.5)
    for _ in range(2):
        await asyncio.sleep(15 * 60)
        await bench.settled()
    bodies = [p.form["Body"] for p in twilio.pages()]
    assert len(bodies) == 2 and not any("LATE" in b or "RETARD" in b for b in bodies)
    assert bench.cascade.store.incident(1).state == "exhausted"  # type: ignore[union-attr]
    await bench.stop()
