"""`ecreteur server` on Cassandra: a live station's history and the alarm journal stored there."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cassandra.cluster import Cluster

from core.model import utcnow
from tests.integration.api_server import SITE, ApiServer
from tests.integration.conftest import CassandraNode, cassandra_settings


def cassandra_rows(port: int, keyspace: str, cql: str) -> list[Any]:
    cluster = Cluster(["127.0.0.1"], port=port, protocol_version=5)
    try:
        return list(cluster.connect(keyspace).execute(cql))
    finally:
        cluster.shutdown()


@pytest.mark.slow
@pytest.mark.cassandra
def test_server_on_cassandra_stores_a_live_station_and_serves_its_history(
    tmp_path: Path, cassandra_node: CassandraNode
) -> None:
    keyspace = cassandra_settings(cassandra_node).keyspace
    where = f"port: {cassandra_node.port}, keyspace: {keyspace}, consistency: ONE"
    storage = f"storage: {{backend: cassandra, cassandra: {{{where}}}}}\n"
    api = ApiServer(tmp_path, site=SITE + storage)
    api.start(with_station=True)  # a simulated dam over OPC-UA, as in the demo
    try:
        since = utcnow() - timedelta(minutes=1)
        deadline = time.monotonic() + 60
        raw: list[str] = []
        while time.monotonic() < deadline and len(raw) < 20:
            time.sleep(0.5)
            params = {"from": since.isoformat(), "to": (utcnow() + timedelta(seconds=5)).isoformat(),
                      "agg": "raw", "max_points": 1000}  # fmt: skip
            answer = httpx.get(f"{api.url}/tags/lauragais.level/history", params=params,
                               headers={**api.headers("read"), "Accept": "text/csv"})  # fmt: skip
            assert answer.status_code == 200, answer.text
            raw = answer.text.splitlines()[1:]
        assert len(raw) >= 20, "the station's samples should come back from Cassandra"
        params = {"from": since.isoformat(), "to": utcnow().isoformat(), "max_points": 5}
        buckets = httpx.get(f"{api.url}/tags/lauragais.level/history", params=params,
                            headers=api.headers("read")).json()["buckets"]  # fmt: skip
        assert 0 < len(buckets) <= 5 and sum(b["count"] for b in buckets) >= 20
        probe = {"tag": "sondes.probe", "ts": utcnow().isoformat(), "value": 12.5}
        posted = httpx.post(f"{api.url}/samples", json={"samples": [probe]}, headers=api.headers("ingest"))
        assert posted.status_code == 200 and posted.json()["accepted"] == 1
        latest = httpx.get(f"{api.url}/tags/sondes.probe/latest", headers=api.headers("read")).json()
        assert latest["value"] == 12.5
        alarm = {"tag": "sondes.probe", "ts": utcnow().isoformat(), "value": 60.0}  # above H 50
        assert httpx.post(
            f"{api.url}/samples", json={"samples": [alarm]}, headers=api.headers("ingest")
        ).is_success
        entries: list[dict[str, object]] = []
        while time.monotonic() < deadline + 30 and not entries:
            time.sleep(0.2)
            journal = httpx.get(f"{api.url}/alarms/journal", headers=api.headers("read")).json()
            entries = [e for e in journal["entries"] if e["action"] == "raised"]
        assert entries and entries[0]["alarm"].startswith("probe:sondes.probe")
        rows = cassandra_rows(cassandra_node.port, keyspace, "SELECT alarm, action FROM alarm_events")
        assert any(
            r.action == "raised" and r.alarm.startswith("probe:") for r in rows
        )  # shared, in Cassandra
        metrics = httpx.get(f"{api.url}/metrics", headers=api.headers("read")).text
        assert "ecreteur_historian_cassandra_up 1" in metrics
        assert "ecreteur_historian_spool_samples 0" in metrics
        stored = int(metrics.split("\necreteur_samples_stored_total ")[1].split()[0])
        assert stored >= 20  # counted on Cassandra too
        assert f"Cassandra 127.0.0.1:{cassandra_node.port} connected (keyspace {keyspace})" in api.log()
    finally:
        api.stop()
