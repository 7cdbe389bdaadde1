"""A bench-only OPC-UA station that changes N variables as fast as asyncua can serve them.

    python tests/bench/fast_station.py PORT N_VARIABLES
Prints "ready" once serving; every variable gets a new value each round.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from asyncua import Server, ua


async def main(port: int, count: int) -> None:
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/bench")
    ns = await server.register_namespace("urn:ecreteur:bench")
    folder = await server.nodes.objects.add_object(ns, "Bench")
    nodes = [
        (await folder.add_variable(ua.NodeId.from_string(f"ns={ns};s=v{i}"), f"v{i}", 0.0)).nodeid
        for i in range(count)
    ]
    async with server:
        print("ready", flush=True)
        value = 0.0
        while True:
            value += 1.0
            now = datetime.now(UTC)
            for nodeid in nodes:
                dv = ua.DataValue(
                    ua.Variant(value, ua.VariantType.Double), SourceTimestamp=now, ServerTimestamp=now
                )
                await server.write_attribute_value(nodeid, dv)
            await asyncio.sleep(0)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
