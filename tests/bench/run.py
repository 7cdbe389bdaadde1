"""The headline benchmarks in a few minutes, each same-run ratio beside the recorded one.

    .venv/bin/python tests/bench/run.py [NAME ...]

Run it when a change touches acquisition, the bus, alarms, the historian, the API or the event
stream. Each bench runs in its own process, shortened where it has a duration; its same-run
ratio (against the baseline it measures in that run, so machine noise mostly cancels) is read
from its last lines and compared with ``tests/bench/baseline.json`` (the figures of
docs/PERFORMANCE.md). A ratio more than 15 % worse is flagged: look before it lands. It is a
report, never a CI gate or a test threshold; run a flagged bench again by its own command
before believing it, and record new figures in docs/PERFORMANCE.md with the command.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORSE = 0.15  # flagged when the ratio is this much worse than recorded


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]
    pattern: str  # the ratio, as the bench prints it (the last match wins)


_HISTORIAN = r"median, {shape}, 1,000-row[^\n]*historian/raw = ([0-9.]+)"
BENCHES = (
    Bench("rest_ingestion", ("bench_api.py", "10", "2"), r"API/historian = ([0-9.]+)"),
    Bench("alarm_engine", ("bench_alarms.py",), r"engine/bare CPU = ([0-9.]+)"),
    Bench("acquisition", ("bench_acquisition.py", "5", "200"), r"pipeline/bare = ([0-9.]+)"),
    Bench("historian_live", ("bench_historian.py", "write"), _HISTORIAN.format(shape="1,000 tags x 1 s")),
    Bench("historian_replay", ("bench_historian.py", "write"), _HISTORIAN.format(shape="100 tags x 10 s")),
    Bench("paging", ("bench_paging.py",), r"ratio cascade / bare client: p50 ([0-9.]+)"),
    Bench("stream", ("bench_stream.py", "10", "20", "1000"), r"ratios: CPU ([0-9.]+)"),
)


def ratio_of(output: str, pattern: str) -> float | None:
    found = re.findall(pattern, output)
    return float(found[-1]) if found else None


def verdict(now: float, recorded: float, better: str) -> str:
    """ "ok", or how much worse than recorded (a ratio 15 % or more worse is flagged)."""
    worse = recorded / now - 1 if better == "higher" else now / recorded - 1
    return f"WORSE by {worse:.0%}" if worse > WORSE else "ok"


def main(wanted: list[str]) -> int:
    baseline = json.loads((HERE / "baseline.json").read_text(encoding="utf-8"))
    chosen = [b for b in BENCHES if not wanted or b.name in wanted]
    outputs: dict[tuple[str, ...], str] = {}
    rows, flagged, started = [], 0, time.monotonic()
    for bench in chosen:
        if bench.args not in outputs:  # benches that print two ratios run once
            print(f"… {' '.join(bench.args)}", file=sys.stderr, flush=True)
            done = subprocess.run([sys.executable, str(HERE / bench.args[0]), *bench.args[1:]], cwd=REPO,
                                  capture_output=True, text=True, check=False, timeout=900)  # fmt: skip
            outputs[bench.args] = done.stdout + (f"\n(exit {done.returncode}) {done.stderr[-500:]}"
                                                 if done.returncode else "")  # fmt: skip
        now = ratio_of(outputs[bench.args], bench.pattern)
        recorded = baseline[bench.name]
        if now is None:
            rows.append((bench.name, "—", f"{recorded['ratio']:g}", "NO FIGURE (see its own command)"))
            flagged += 1
            continue
        judged = verdict(now, recorded["ratio"], recorded["better"])
        flagged += judged != "ok"
        rows.append((bench.name, f"{now:g}", f"{recorded['ratio']:g}", judged))
    width = max(len(r[0]) for r in rows)
    print(f"{'bench':{width}}  today  recorded  verdict   ({time.monotonic() - started:.0f} s)")
    for name, now_text, recorded_text, judged in rows:
        better = baseline[name]["better"]
        print(f"{name:{width}}  {now_text:>5}  {recorded_text:>8}  {judged}   ({better} is better: "
              f"{baseline[name]['what']})")  # fmt: skip
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
