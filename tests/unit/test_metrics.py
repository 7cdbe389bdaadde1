"""What /metrics writes: figures a Prometheus server and a person can both read exactly."""

from __future__ import annotations

from core.api.metrics import metric_number


def test_metric_counts_are_exact_above_a_million() -> None:
    assert metric_number(1_234_567.0) == "1234567" and metric_number(0.25) == "0.25"
