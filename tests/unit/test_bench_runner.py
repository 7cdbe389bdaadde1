"""The bench runner reads each bench's ratio as the bench prints it, and flags what got worse."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402


def test_a_ratio_15_percent_worse_is_flagged_whichever_way_is_better() -> None:
    assert run.verdict(2.8, 2.5, "lower") == "ok"  # 12 % worse: noise
    assert run.verdict(3.0, 2.5, "lower") == "WORSE by 20%"
    assert run.verdict(0.23, 0.26, "higher") == "ok"
    assert run.verdict(0.17, 0.26, "higher") == "WORSE by 53%"
    assert run.verdict(0.30, 0.26, "higher") == "ok"  # better is never flagged


def test_every_headline_bench_prints_what_the_runner_reads_and_has_a_recorded_ratio() -> None:
    recorded = json.loads((BENCH / "baseline.json").read_text(encoding="utf-8"))
    for bench in run.BENCHES:
        source = (BENCH / bench.args[0]).read_text(encoding="utf-8")
        literal = bench.pattern.split("(")[0].split("{")[0].split("[")[0].rstrip()  # the fixed words
        assert literal.split(", ")[0] in source, f"{bench.args[0]} no longer prints {literal!r}"
        assert recorded[bench.name]["better"] in ("higher", "lower")
        assert recorded[bench.name]["ratio"] > 0


def test_the_last_figure_printed_is_the_one_read() -> None:
    printed = "round 1: engine/bare CPU = 9.9\nunpaced: engine/bare CPU = 2.6\n"
    assert run.ratio_of(printed, run.BENCHES[1].pattern) == 2.6
    assert run.ratio_of("nothing here", run.BENCHES[1].pattern) is None
