"""``ecreteur simulate``: serve one OPC-UA station per simulated dam until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from core.clock import ScenarioClock, started_now
from core.sim.scenario import load_dams, load_scenario
from core.sim.station import DamStation, station_tick


async def serve(args: argparse.Namespace) -> None:
    scenario = load_scenario(args.scenario)
    dams = load_dams(args.dams).dams
    if args.station:
        unknown = set(args.station) - {dam.station for dam in dams}
        if unknown:
            raise ValueError(f"unknown station(s) {', '.join(sorted(unknown))}")
        dams = [dam for dam in dams if dam.station in args.station]
    if args.port and len(dams) != 1:
        raise ValueError("--port needs exactly one --station")
    clock: ScenarioClock | None = args.simulation
    if clock is None and not args.wall_clock and args.speed != 1:
        clock = started_now(args.speed)
    stations = [
        DamStation(
            dam.station,
            dam.parameters(),
            scenario,
            port=args.port or dam.port,
            speed=args.speed,
            clock=clock,
            tick_s=station_tick(args.speed if clock is None else clock.speed, args.tick),
            rain_factor=dam.rain_factor,
            history_db=args.history_dir / f"{dam.station}.db" if args.history_dir else None,
            certificate=args.certificate,
            private_key=args.private_key,
            name=dam.name,
        )
        for dam in dams
    ]
    # the handlers come first: a stop asked as soon as an endpoint is printed (a supervisor, a
    # test) must stop the stations cleanly, not interrupt the loop halfway through a start
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    for station in stations:
        await station.start()
        print(f"{station.station}: {station.endpoint}", flush=True)
    if clock is not None:
        print(f"simulated time ×{clock.speed:g}: supervise with --simulation {clock}", flush=True)
    await stop.wait()
    for station in stations:
        with contextlib.suppress(Exception):
            await station.stop()
