"""Paging latency benchmark (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_paging.py

From the sample that crosses a threshold to the SMS request arriving at the Twilio mock (Prism
with Twilio's spec, behind the recording proxy), with no configured delay: 100 alarms, one after
the other, p50 and p99. The baseline, measured in the same run against the same mock, is the
bare twilio client sending the same SMS. Their ratio is the cost of the engine, the routing,
the durable claim of the delivery, and the hop to the worker thread.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.integration.paging_bench import ALICE, paging_site, start_bench
from tests.integration.paging_peers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    RecordingProxy,
    twilio_mock,
)

ALARMS = 100


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def through_the_cascade(proxy: RecordingProxy, directory: Path) -> list[float]:
    policy = {
        "id": "p",
        "levels": [{"targets": [{"person": "alice"}], "channels": ["sms"], "delay_min": 600}],
    }
    bench = await start_bench(paging_site(proxy, policy, group_window_s=0), directory)
    latencies = []
    for i in range(ALARMS):
        before = len(proxy.pages())
        start = time.perf_counter()
        bench.level(4.5)  # crosses HH: raised, routed, paged
        while not [p for p in proxy.pages()[before:] if p.form["Body"].startswith(f"[{i + 1}]")]:  # noqa: ASYNC110
            await asyncio.sleep(0.0005)
        page = next(p for p in proxy.pages()[before:] if p.form["Body"].startswith(f"[{i + 1}]"))
        latencies.append(page.received - start)
        bench.level(3.0)  # back to normal: the next crossing opens a new page
        await asyncio.sleep(0.05)
    await bench.stop()
    return latencies


def bare_client(proxy: RecordingProxy) -> list[float]:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    class Routed(TwilioHttpClient):  # type: ignore[misc]
        def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
            return super().request(method, url.replace("https://api.twilio.com", proxy.url), *args, **kwargs)

    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=Routed(timeout=10))
    latencies = []
    for i in range(ALARMS):
        before = len(proxy.pages())
        start = time.perf_counter()
        client.messages.create(to=ALICE, from_="+33500000000", body=f"[{i}] CRITIQUE test. Répondez OK {i}.")
        latencies.append(proxy.pages()[before].received - start)
    return latencies


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with twilio_mock(directory) as proxy:
            bare_client(proxy)  # warm-up: Prism's first answers are slower
            bare = bare_client(proxy)
            ours = asyncio.run(through_the_cascade(proxy, directory))
    for name, values in (("sample -> SMS request (cascade)", ours), ("SMS request (bare twilio)", bare)):
        print(f"{name:34s} p50 {pct(values, 0.5) * 1000:7.1f} ms  p99 {pct(values, 0.99) * 1000:7.1f} ms  "
              f"mean {statistics.fmean(values) * 1000:7.1f} ms")  # fmt: skip
    print(f"ratio cascade / bare client: p50 {pct(ours, 0.5) / pct(bare, 0.5):.2f}  "
          f"p99 {pct(ours, 0.99) / pct(bare, 0.99):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
