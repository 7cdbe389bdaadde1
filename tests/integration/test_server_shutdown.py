"""SIGTERM during sustained ingestion: every acknowledged sample is in the historian afterwards."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from core.model import utcnow
from core.storage.sqlite import SQLiteHistorian
from tests.integration.api_server import ApiServer


@pytest.mark.slow
def test_sigterm_during_ingestion_loses_no_acknowledged_sample(tmp_path: Path) -> None:
    api = ApiServer(tmp_path)
    api.start(with_station=False)
    base = utcnow() - timedelta(days=1)
    acknowledged: list[int] = []
    failures: list[str] = []
    told: list[tuple[str | None, str]] = []

    def ingest() -> None:
        seconds = 0
        with httpx.Client(headers=api.headers("ingest"), timeout=10) as client:
            while True:
                batch = [{"tag": "sondes.probe", "ts": (base + timedelta(seconds=seconds + i)).isoformat(),
                          "value": float(seconds + i)} for i in range(100)]  # fmt: skip
                try:
                    response = client.post(f"{api.url}/samples", json={"samples": batch})
                except httpx.TransportError:
                    return  # the server has stopped accepting
                if response.status_code == 503:  # stopping: told so, with when to retry
                    told.append((response.headers.get("retry-after"), response.json()["detail"]))
                    return
                if response.status_code != 200 or response.json()["accepted"] != 100:
                    failures.append(response.text)
                    return
                acknowledged.extend(range(seconds, seconds + 100))
                seconds += 100

    clients = [threading.Thread(target=ingest)]
    clients[0].start()
    while len(acknowledged) < 5000:
        time.sleep(0.05)
    api.server.send_signal(signal.SIGTERM)
    clients[0].join(timeout=60)
    assert api.server.wait(timeout=60) == 0
    api.stop()
    assert not failures
    assert told == [("5", "the server is stopping: retry in a few seconds")]  # not a reset

    async def stored() -> set[int]:
        historian = SQLiteHistorian(api.data / "var" / "ecreteur.db")
        await historian.start()
        try:
            samples = await historian.raw("sondes.probe", base, base + timedelta(days=1))
        finally:
            await historian.stop()
        return {int(s.value) for s in samples}

    kept = asyncio.run(stored())
    assert len(acknowledged) >= 5000
    assert set(acknowledged) <= kept
    assert "SIGTERM received: stopping" in api.log() and "historian and alarm journal flushed" in api.log()
    # outside journald every line says when it happened (UTC)
    stopping = next(line for line in api.log().splitlines() if "SIGTERM received" in line)
    assert re.match(r"ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=", stopping), stopping
