"""``/metrics`` in Prometheus' text format: what the server counts and where it stands.

Request counts and latencies per route are measured by a pure ASGI layer (``Measure``); the
rest is read from the runtime when ``/metrics`` is asked for.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from core.api.middleware import ASGIApp
from core.model import ConnectionState
from core.runtime import Runtime
from core.storage.base import DISK_FULL, WRITE_FAILED

_PAGING = {  # a paging store's figures (redundant servers)
    "backlog": ("paging-store writes not yet forwarded to Cassandra.", "gauge"),
    "forward_errors": ("paging-store writes Cassandra refused, retried.", "counter"),
    "fail_open_sends": ("pages sent while Cassandra could not decide who sends.", "counter"),
}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # the others count as one


class Measure:
    """Counts requests and their latency per route (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"] if scope["method"] in _METHODS else "other"  # any token is a method
            self.metrics.observe(method, route, status, time.perf_counter() - start)


class Metrics:
    """Request counts and latencies per route, for ``/metrics``."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, tuple[float, int]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        total, count = self.latency.get(route, (0.0, 0))
        self.latency[route] = (total + seconds, count + 1)


def metric_number(value: float) -> str:
    """A gauge's value: counts exact (1234567, not 1.23457e+06), fractions to 6 digits."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.6g}"


def prometheus_text(runtime: Runtime, metrics: Metrics) -> str:
    lines = [
        "# HELP ecreteur_samples_received_total Samples received from each station.",
        "# TYPE ecreteur_samples_received_total counter",
        *(f'ecreteur_samples_received_total{{station="{link.station.id}"}} {link.received}'
          for link in runtime.links),
        "# TYPE ecreteur_samples_backfilled_total counter",
        *(f'ecreteur_samples_backfilled_total{{station="{link.station.id}"}} {link.backfilled}'
          for link in runtime.links),
        "# HELP ecreteur_samples_rejected_total Values a station sent that could not be read.",
        "# TYPE ecreteur_samples_rejected_total counter",
        *(f'ecreteur_samples_rejected_total{{station="{link.station.id}"}} {getattr(link, "rejected", 0)}'
          for link in runtime.links),
        "# TYPE ecreteur_station_up gauge",
        *(f'ecreteur_station_up{{station="{sid}"}} {int(st.state is ConnectionState.CONNECTED)}'
          for sid, st in runtime.stations.items()),
        "# TYPE ecreteur_samples_stored_total counter",
        f"ecreteur_samples_stored_total {getattr(runtime.historian, 'written_rows', 0)}",
        "# TYPE ecreteur_historian_queue_rows gauge",
        f"ecreteur_historian_queue_rows {getattr(runtime.historian, 'pending_rows', 0)}",
        "# TYPE ecreteur_historian_write_errors_total counter",
        f"ecreteur_historian_write_errors_total {runtime.write_errors}",
        "# HELP ecreteur_historian_failing 1 while writes fail, by reason (disk_full: posts answer 503).",
        "# TYPE ecreteur_historian_failing gauge",
        *(f'ecreteur_historian_failing{{reason="{reason}"}} {int(runtime.history.failing == reason)}'
          for reason in (DISK_FULL, WRITE_FAILED)),
        "# HELP ecreteur_historian_kept_rows Station samples kept in memory until the historian writes.",
        "# TYPE ecreteur_historian_kept_rows gauge",
        f"ecreteur_historian_kept_rows {runtime.history.kept_rows}",
        "# TYPE ecreteur_historian_unkept_rows_total counter",
        f"ecreteur_historian_unkept_rows_total {runtime.history.dropped_rows}",
        "# TYPE ecreteur_alarm_rejected_samples_total counter",
        f"ecreteur_alarm_rejected_samples_total {runtime.alarms.rejected_samples}",
        "# HELP ecreteur_retention_held 1 while the purge is refused: the clock disagrees with the data.",
        "# TYPE ecreteur_retention_held gauge",
        f"ecreteur_retention_held {int(bool(runtime.retention_held))}",
    ]  # fmt: skip
    backend_metrics = getattr(runtime.historian, "metrics", None)  # e.g. the Cassandra spool
    for name, value in (backend_metrics() if backend_metrics else {}).items():
        lines += [
            f"# TYPE ecreteur_historian_{name} gauge",
            f"ecreteur_historian_{name} {metric_number(value)}",
        ]
    counts: dict[tuple[str, str], int] = {}
    for alarm in runtime.alarms.alarms.values():
        key = (alarm.priority.name.lower(), alarm.state.status.value)
        counts[key] = counts.get(key, 0) + 1
    lines.append("# TYPE ecreteur_alarms gauge")
    lines += [f'ecreteur_alarms{{priority="{p}",status="{st}"}} {n}' for (p, st), n in sorted(counts.items())]
    lines += ["# TYPE ecreteur_http_requests_total counter"]
    lines += [
        f'ecreteur_http_requests_total{{method="{m}",route="{r}",status="{code}"}} {n}'
        for (m, r, code), n in sorted(metrics.requests.items())
    ]
    lines += ["# TYPE ecreteur_http_request_duration_seconds summary"]
    for route, (total, count) in sorted(metrics.latency.items()):
        lines.append(f'ecreteur_http_request_duration_seconds_sum{{route="{route}"}} {total:.6f}')
        lines.append(f'ecreteur_http_request_duration_seconds_count{{route="{route}"}} {count}')
    if runtime.lease is not None:
        lease = runtime.lease
        lines += ["# HELP ecreteur_leader 1 while this server holds the pager's lease (or pages fail-open).",
                  "# TYPE ecreteur_leader gauge",
                  f'ecreteur_leader{{owner="{lease.owner}",leader="{lease.leader or ""}"}} '
                  f"{int(lease.leading())}",
                  "# TYPE ecreteur_leader_changes_total counter",
                  f"ecreteur_leader_changes_total {lease.changes}"]  # fmt: skip
    if runtime.commands is not None:
        lines += ["# HELP ecreteur_commands_relayed_total other servers' operator commands carried out here.",
                  "# TYPE ecreteur_commands_relayed_total counter",
                  f"ecreteur_commands_relayed_total {runtime.commands.relayed}",
                  "# TYPE ecreteur_commands_relay_errors_total counter",
                  f"ecreteur_commands_relay_errors_total {runtime.commands.errors}"]  # fmt: skip
    store = runtime.cascade.store if runtime.cascade is not None else None
    for name, value in (store.metrics() if store is not None else {}).items():
        help_text, kind = _PAGING[name]
        suffix = "_total" if kind == "counter" else ""
        metric = f"ecreteur_paging_{name}{suffix}"
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
        lines.append(f"{metric} {metric_number(value)}")
    return "\n".join(lines) + "\n"
