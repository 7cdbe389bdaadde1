"""Bench-only OPC-UA stations for the scale benchmark: one process serves several of them.

    python tests/bench/scale_stations.py FIRST_INDEX PORTS TAGS [CROSSING_S OUT]

PORTS is a comma-separated list, one station (its own asyncua server and endpoint
``opc.tcp://127.0.0.1:PORT/s{index}``) per port. Every station changes each of its TAGS doubles
once a second, stamped with the wall clock, the stations spread over the second as RTUs polled
by a gateway would be. With CROSSING_S, the first station's first tag (the bench's "level")
goes above 1,000 for half of every CROSSING_S seconds, and the instant of each rise
(``time.perf_counter()``, the same monotonic clock in every process of this machine) is
appended to OUT. Prints "ready" once every station serves.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from asyncua import Server, ua


async def station(
    index: int, port: int, tags: int, offset: float, crossing_s: float, out: Path | None
) -> None:
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/s{index}")
    ns = await server.register_namespace(f"urn:ecreteur:scale:s{index}")
    folder = await server.nodes.objects.add_object(ns, f"S{index}")
    nodes = [
        (await folder.add_variable(ua.NodeId.from_string(f"ns={ns};s=v{i}"), f"v{i}", 0.0)).nodeid
        for i in range(tags)
    ]
    await server.start()
    ready.append(index)
    tick = int(time.time()) + 1
    high = False
    while True:
        await asyncio.sleep(max(0.0, tick + offset - time.time()))
        now = datetime.now(UTC)
        for i, nodeid in enumerate(nodes):
            value = 10.0 + (tick % 60) / 10 + i / 1000
            if i == 0 and crossing_s:
                crossing = tick % crossing_s < crossing_s / 2
                if crossing and not high and out is not None:
                    with out.open("a") as handle:
                        handle.write(f"{time.perf_counter()}\n")
                high = crossing
                value = 1500.0 if crossing else 10.0
            dv = ua.DataValue(
                ua.Variant(value, ua.VariantType.Double), SourceTimestamp=now, ServerTimestamp=now
            )
            await server.write_attribute_value(nodeid, dv)
        tick += 1


ready: list[int] = []


async def main(first: int, ports: list[int], tags: int, crossing_s: float, out: Path | None) -> None:
    tasks = [
        asyncio.create_task(
            station(
                first + k, port, tags, (first + k) * 0.618 % 0.9, crossing_s if first + k == 0 else 0.0, out
            )
        )
        for k, port in enumerate(ports)
    ]
    while len(ready) < len(ports):
        await asyncio.sleep(0.05)
        for task in tasks:
            if task.done():
                task.result()
    print("ready", flush=True)
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)  # the stations' own chatter is not the bench's
    crossing = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    target = Path(sys.argv[5]) if len(sys.argv) > 5 else None
    asyncio.run(
        main(int(sys.argv[1]), [int(p) for p in sys.argv[2].split(",")], int(sys.argv[3]), crossing, target)
    )
