"""What storage.durability costs (run by hand; figures go to docs/PERFORMANCE.md).

    .venv/bin/python tests/bench/bench_durability.py [BATCHES]

Writes BATCHES (2,000) batches of 100 samples into a fresh SQLite historian, each awaited as a
REST ingestion awaits it, with ``synchronous=NORMAL`` (process_crash) then ``FULL``
(power_cut, the default), twice each, alternated: samples/s. The ratio FULL / NORMAL is the
figure to watch.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.model import Sample, utcnow
from core.storage.sqlite import SQLiteHistorian


async def rate(synchronous: str, count: int) -> float:
    with tempfile.TemporaryDirectory() as directory:
        historian = SQLiteHistorian(Path(directory) / "h.db", synchronous=synchronous)
        await historian.start()
        base = utcnow() - timedelta(days=1)
        batches = [[Sample(f"t{i % 100}", base + timedelta(seconds=n * 100 + i), float(i)) for i in range(100)]
                   for n in range(count)]  # fmt: skip
        start = time.perf_counter()
        for batch in batches:
            await historian.write(batch)
        elapsed = time.perf_counter() - start
        await historian.stop()
        return count * 100 / elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    figures: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
    for synchronous in ("NORMAL", "FULL", "NORMAL", "FULL"):
        figures[synchronous].append(asyncio.run(rate(synchronous, count)))
    for synchronous, rates in figures.items():
        print(f"{synchronous}: {', '.join(f'{r:,.0f}' for r in rates)} samples/s")
    print(f"ratio FULL / NORMAL (best of two): {max(figures['FULL']) / max(figures['NORMAL']):.2f}")


if __name__ == "__main__":
    main()
