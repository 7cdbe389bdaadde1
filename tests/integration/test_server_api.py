"""The REST API of a real `ecreteur server` process, driven over HTTP like a client would."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from core.model import utcnow
from tests.conftest import REPO, wait_until
from tests.integration.api_server import SCOPES, SITE, ApiServer, cli


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path_factory.mktemp("api"))
    server.start()
    yield server
    server.stop()


def now_iso(offset_s: float = 0.0) -> str:
    return (utcnow() + timedelta(seconds=offset_s)).isoformat()


def test_a_batch_stores_the_valid_samples_and_says_what_was_wrong_with_the_others(api: ApiServer) -> None:
    ts = now_iso(-60)
    batch = {
        "samples": [
            {"tag": "sondes.probe", "ts": ts, "value": 12.5},
            {"tag": "lauragais.nope", "ts": ts, "value": 1},
            {"tag": "sondes.probe", "ts": "2026-11-27T03:00:00", "value": 1},
            {"tag": "sondes.probe", "ts": ts, "value": "high"},
            {"tag": "sondes.probe", "ts": now_iso(3600), "value": 1},
            {"tag": "sondes.probe", "ts": ts, "value": 2, "colour": "red"},
        ]
    }
    response = httpx.post(f"{api.url}/samples", json=batch, headers=api.headers("ingest"))
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    errors = {r["index"]: r["error"] for r in body["rejected"]}
    assert errors[1] == "unknown tag 'lauragais.nope'"
    assert errors[2] == "ts: needs a time zone, e.g. 2026-11-27T03:00:00Z"
    assert errors[3].startswith("value: Input should be a valid number")
    assert "is in the future" in errors[4]
    assert errors[5].startswith("colour: Extra inputs are not permitted")
    latest = httpx.get(f"{api.url}/tags/sondes.probe/latest", headers=api.headers("read")).json()
    assert latest["value"] == 12.5 and latest["quality"] == "good"


def test_nan_and_malformed_json_get_a_4xx_that_says_why(api: ApiServer) -> None:
    raw = '{"samples": [{"tag": "sondes.probe", "ts": "' + now_iso(-5) + '", "value": NaN}]}'
    nan = httpx.post(
        f"{api.url}/samples",
        content=raw,
        headers={**api.headers("ingest"), "content-type": "application/json"},
    )
    assert nan.status_code == 422 and nan.json()["rejected"][0]["error"] == "value: must be a finite number"
    broken = httpx.post(
        f"{api.url}/samples",
        content="{not json",
        headers={**api.headers("ingest"), "content-type": "application/json"},
    )
    assert broken.status_code == 422 and "JSON" in broken.text


def test_an_impossible_value_is_refused_and_one_out_of_range_kept_as_uncertain(api: ApiServer) -> None:
    """1.8e308 m was stored as good and the minute's average became inf in the history and CSV."""
    base = utcnow().replace(second=0, microsecond=0) - timedelta(hours=3)
    batch = {"samples": [
        {"tag": "sondes.probe", "ts": base.isoformat(), "value": 1.7976931348623157e308},
        {"tag": "sondes.probe", "ts": (base + timedelta(seconds=1)).isoformat(), "value": -1e300},
        {"tag": "sondes.probe", "ts": (base + timedelta(seconds=2)).isoformat(), "value": -5.0},
        {"tag": "sondes.probe", "ts": (base + timedelta(seconds=3)).isoformat(), "value": 20.0},
    ]}  # fmt: skip
    response = httpx.post(f"{api.url}/samples", json=batch, headers=api.headers("ingest"))
    assert response.status_code == 200 and response.json()["accepted"] == 2
    errors = {r["index"]: r["error"] for r in response.json()["rejected"]}
    assert errors == {0: "value: 1.79769e+308 is not a measurement (beyond ±1e+15)",
                      1: "value: -1e+300 is not a measurement (beyond ±1e+15)"}  # fmt: skip
    window = {
        "from": (base - timedelta(minutes=1)).isoformat(),
        "to": (base + timedelta(minutes=2)).isoformat(),
    }
    raw = httpx.get(f"{api.url}/tags/sondes.probe/history", params={**window, "agg": "raw"},
                    headers=api.headers("read")).json()["samples"]  # fmt: skip
    assert [(p["value"], p["quality"]) for p in raw] == [(-5.0, "uncertain"), (20.0, "good")]
    csv = httpx.get(f"{api.url}/tags/sondes.probe/history", params={**window, "max_points": 2},
                    headers={**api.headers("read"), "Accept": "text/csv"}).text  # fmt: skip
    assert "inf" not in csv.lower() and "e+308" not in csv


def test_oversize_requests_are_refused_with_413(api: ApiServer) -> None:
    many = {"samples": [{"tag": "sondes.probe", "ts": now_iso(-i), "value": 1} for i in range(1001)]}
    assert httpx.post(f"{api.url}/samples", json=many, headers=api.headers("ingest")).status_code == 413
    huge = b'{"samples": [' + b" " * 300_000 + b"]}"
    response = httpx.post(f"{api.url}/samples", content=huge, headers=api.headers("ingest"))
    assert response.status_code == 413 and "too large" in response.text


def test_history_raw_downsampled_and_csv(api: ApiServer) -> None:
    base = utcnow() - timedelta(hours=2)
    samples = [{"tag": "sondes.probe", "ts": (base + timedelta(seconds=i)).isoformat(), "value": i % 10}
               for i in range(600)]  # fmt: skip
    assert (
        httpx.post(f"{api.url}/samples", json={"samples": samples}, headers=api.headers("ingest")).status_code
        == 200
    )
    params = {"from": base.isoformat(), "to": (base + timedelta(minutes=10)).isoformat(), "max_points": 10}
    history = httpx.get(
        f"{api.url}/tags/sondes.probe/history", params=params, headers=api.headers("read")
    ).json()
    assert len(history["buckets"]) <= 10 and sum(b["count"] for b in history["buckets"]) == 600
    assert history["buckets"][0]["max"] == 9
    csv = httpx.get(f"{api.url}/tags/sondes.probe/history", params={**params, "agg": "raw"},
                    headers={**api.headers("read"), "Accept": "text/csv"})  # fmt: skip
    lines = csv.text.splitlines()
    assert csv.headers["content-type"].startswith("text/csv")
    assert lines[0] == "ts,value,quality" and len(lines) == 11  # max_points caps raw rows too


def test_tokens_and_scopes(api: ApiServer) -> None:
    assert httpx.get(f"{api.url}/health").json() == {"status": "alive", "historian": "stores"}
    missing = httpx.get(f"{api.url}/tags")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{api.url}/tags", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert (
        httpx.post(f"{api.url}/samples", json={"samples": []}, headers=api.headers("read")).status_code == 403
    )
    assert httpx.get(f"{api.url}/tags", headers=api.headers("admin")).status_code == 200
    made = cli(
        "token",
        "create",
        "temporary",
        "--scope",
        "read",
        "--config",
        str(api.config),
        "--data-dir",
        str(api.data),
    )
    revoked = cli("token", "revoke", "temporary", "--config", str(api.config), "--data-dir", str(api.data))
    assert revoked.returncode == 0
    assert (
        httpx.get(f"{api.url}/tags", headers={"Authorization": f"Bearer {made.stdout.strip()}"}).status_code
        == 401
    )
    listed = cli("token", "list", "--config", str(api.config), "--data-dir", str(api.data)).stdout
    assert "read\tread" in listed and "temporary" not in listed and "ecr_" not in listed


def test_a_revoked_token_stops_at_once_and_bogus_tokens_are_not_kept(api: ApiServer) -> None:
    made = cli("token", "create", "briefly", "--scope", "read", "--config", str(api.config),
               "--data-dir", str(api.data))  # fmt: skip
    briefly = {"Authorization": f"Bearer {made.stdout.strip()}"}
    assert httpx.get(f"{api.url}/tags", headers=briefly).status_code == 200  # verified and cached
    revoked = cli("token", "revoke", "briefly", "--config", str(api.config), "--data-dir", str(api.data))
    assert revoked.returncode == 0
    assert httpx.get(f"{api.url}/tags", headers=briefly).status_code == 401  # not 5 s later: now
    with httpx.Client() as client:
        for n in range(300):
            bogus = {"Authorization": f"Bearer ecr_{n:04d}" + "x" * 8000}
            assert client.get(f"{api.url}/tags", headers=bogus).status_code == 401
    metrics = httpx.get(f"{api.url}/metrics", headers=api.headers("read")).text
    cached = int(metrics.split("\necreteur_token_cache_entries ")[1].split()[0])
    assert cached <= len(SCOPES)  # the valid ones only


def test_hostile_and_wrong_requests_get_a_reason_and_change_nothing(api: ApiServer) -> None:
    ingest = {**api.headers("ingest"), "Content-Type": "application/json"}

    def post(samples: object) -> httpx.Response:
        return httpx.post(f"{api.url}/samples", json={"samples": samples}, headers=ingest)

    def reason(answer: httpx.Response) -> str:
        assert answer.status_code == 422, answer.text
        return str(answer.json()["rejected"][0]["error"])

    year_one = {"tag": "lauragais.level", "ts": "0001-01-01T00:00:00+14:00", "value": 1.0}
    assert "between 1970 and 9999" in reason(post([year_one]))
    too_old = {"tag": "lauragais.level", "ts": "1990-01-01T00:00:00Z", "value": 1.0}
    assert "older than the retention" in reason(post([too_old]))
    assert "valid number" in reason(post([{"tag": "lauragais.level", "ts": now_iso(), "value": True}]))
    assert "ISO 8601" in reason(post([{"tag": "lauragais.level", "ts": 1764650000, "value": 1.0}]))
    echoed = reason(post([{"tag": "x" * 100_000, "ts": now_iso(), "value": 1.0}]))
    assert len(echoed) < 200 and echoed.startswith("unknown tag 'xxx")

    nested = b'{"samples": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    deep = httpx.post(f"{api.url}/samples", content=nested, headers=ingest)
    assert deep.status_code == 422 and "nests too deeply" in deep.json()["detail"]
    plain = httpx.post(f"{api.url}/samples", content=b"lauragais.level 1.0", headers=api.headers("ingest"))
    assert plain.status_code == 415 and "application/json" in plain.json()["detail"]

    bounds = {"from": "0001-01-01T00:00:00Z", "to": "0001-01-02T00:00:00Z"}
    history = httpx.get(f"{api.url}/tags/lauragais.level/history", params=bounds, headers=api.headers("read"))
    assert history.status_code == 422 and "between 1970 and 9999" in history.json()["detail"]

    stranger = httpx.post(
        f"{api.url}/alarms/x/ack", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert stranger.status_code == 401  # not 422: nothing is said about the body to a stranger


def test_alarm_operations_over_the_api(api: ApiServer) -> None:
    high = {"samples": [{"tag": "sondes.probe", "ts": now_iso(-1), "value": 70}]}
    posted = httpx.post(f"{api.url}/samples", json=high, headers=api.headers("ingest"))
    assert posted.status_code == 200
    alarm = "probe:sondes.probe:H"
    active = httpx.get(f"{api.url}/alarms", headers=api.headers("read")).json()
    assert [a["id"] for a in active] == [alarm] and active[0]["status"] == "unacknowledged"
    ack = httpx.post(
        f"{api.url}/alarms/{alarm}/ack",
        json={"user": "Marie", "comment": "vu"},
        headers=api.headers("operate"),
    )
    assert ack.json() == {"alarm": alarm, "done": True, "status": "acknowledged"}
    again = httpx.post(
        f"{api.url}/alarms/{alarm}/ack", json={"user": "Marie"}, headers=api.headers("operate")
    )
    # a refusal in the site's language, or in the one the client asks for
    assert again.status_code == 409
    assert again.json()["detail"] == f"refusé : acquitter « {alarm} » — elle est déjà acquittée"
    english = httpx.post(f"{api.url}/alarms/{alarm}/ack", json={"user": "Marie"},
                         headers={**api.headers("operate"), "Accept-Language": "en-GB,en;q=0.8"})  # fmt: skip
    assert english.json()["detail"] == f'cannot acknowledge "{alarm}": it is already acknowledged'
    shelving = f"{api.url}/alarms/{alarm}/shelve"
    too_long = httpx.post(shelving, json={"user": "Marie", "reason": "essai", "duration_min": 600},
                          headers=api.headers("operate"))  # fmt: skip
    assert too_long.status_code == 422
    assert too_long.json()["detail"] == "une mise en attente dure plus de 0 min et au plus 8 h 00 min"
    shelve = httpx.post(shelving, json={"user": "Marie", "reason": "sonde en test", "duration_min": 30},
                        headers=api.headers("operate"))  # fmt: skip
    assert shelve.json()["status"] == "shelved"
    unshelve = httpx.post(
        f"{api.url}/alarms/{alarm}/unshelve", json={"user": "Marie"}, headers=api.headers("operate")
    )
    assert unshelve.json()["status"] == "unacknowledged"
    assert (
        httpx.post(
            f"{api.url}/alarms/nope/ack", json={"user": "M"}, headers=api.headers("operate")
        ).status_code
        == 404
    )
    journal = httpx.get(
        f"{api.url}/alarms/journal", params={"alarm": alarm}, headers=api.headers("read")
    ).json()
    actions = [(e["action"], e["user"], e["comment"]) for e in journal["entries"]]
    assert actions[:2] == [("raised", "", ""), ("acknowledged", "Marie", "vu (API: operate)")]
    assert [a for a, _, _ in actions][2:] == ["shelved", "unshelved", "raised"]
    csv = httpx.get(f"{api.url}/alarms/journal", headers={**api.headers("read"), "Accept": "text/csv"})
    assert csv.text.startswith("ts,alarm,tag,action") and "acknowledged" in csv.text
    kpis = httpx.get(f"{api.url}/alarms/kpis", headers=api.headers("read")).json()
    assert kpis["raised"] == 2 and kpis["top10"][0] == [alarm, 2]


def test_stations_ready_and_metrics(api: ApiServer) -> None:
    deadline = time.monotonic() + 30
    while httpx.get(f"{api.url}/ready", headers=api.headers("read")).status_code != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.2)
    stations = httpx.get(f"{api.url}/stations", headers=api.headers("read")).json()
    assert stations[0]["state"] == "connected"
    probe = {"samples": [{"tag": "sondes.probe", "ts": now_iso(-1), "value": 3.0}]}
    assert httpx.post(f"{api.url}/samples", json=probe, headers=api.headers("ingest")).status_code == 200
    metrics = httpx.get(f"{api.url}/metrics", headers=api.headers("read")).text
    assert 'ecreteur_station_up{station="lauragais"} 1' in metrics
    assert "ecreteur_samples_stored_total" in metrics
    assert 'ecreteur_http_requests_total{method="POST",route="/api/v1/samples",status="200"}' in metrics
    assert "secret" not in metrics and "ecr_" not in metrics


def test_no_secret_in_the_logs(api: ApiServer) -> None:
    log = api.log()
    assert "serving API test on http://127.0.0.1" in log
    assert not any(token in log for token in api.tokens.values())


def test_server_without_station_still_serves_and_reports_not_ready(tmp_path: Path) -> None:
    server = ApiServer(tmp_path)
    server.start(with_station=False)
    try:
        ready = httpx.get(f"{server.url}/ready", headers=server.headers("read"))
        assert ready.status_code == 503 and ready.json()["stations"] != {"lauragais": "connected"}
    finally:
        server.stop()


@pytest.mark.slow
def test_a_connection_that_never_finishes_its_request_is_closed(tmp_path: Path) -> None:
    import socket

    server = ApiServer(tmp_path, site=SITE.replace("max_body_bytes: 200000}", "max_body_bytes: 200000, "
                                                   "request_deadline_s: 2}"))  # fmt: skip
    server.start(with_station=False)
    try:
        silent = socket.create_connection(("127.0.0.1", server.api_port))
        trickle = socket.create_connection(("127.0.0.1", server.api_port))
        trickle.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # and never the end
        for sock in (silent, trickle):
            sock.settimeout(120)  # a guard: the server closes long before
            assert sock.recv(100) == b""  # closed by the server
            sock.close()
        assert "no whole request within 2 s" in server.log()
        assert httpx.get(f"{server.url}/health").status_code == 200  # others are served meanwhile
    finally:
        server.stop()


def test_made_up_methods_and_paths_do_not_grow_the_metrics(api: ApiServer) -> None:
    def counters() -> list[str]:
        metrics = httpx.get(f"{api.url}/metrics", headers=api.headers("read")).text
        return [line for line in metrics.splitlines() if line.startswith("ecreteur_http_requests_total{")]

    before = len(counters())
    with httpx.Client() as client:
        for n in range(50):
            client.request(f"X{n}", f"{api.url}/nowhere/{n}")
    after = counters()
    assert any('method="other",route="unmatched"' in line for line in after)
    assert not any('method="X' in line for line in after)
    assert len(after) <= before + 2  # one counter for all of them (and the /metrics read itself)


def test_the_server_s_databases_are_readable_by_its_user_only(api: ApiServer) -> None:
    """Started outside systemd (no UMask=0077), tokens.db and the stores were created 0644:
    password hashes, tokens and the journal readable by every account of the machine."""
    files = [p for p in api.data.rglob("*") if p.is_file() and ".db" in p.name]
    assert any(p.name == "tokens.db" for p in files) and len(files) >= 4, files
    shared = {str(p.relative_to(api.data)): oct(p.stat().st_mode & 0o777) for p in files
              if p.stat().st_mode & 0o077}  # fmt: skip
    assert shared == {}


def test_only_the_api_s_description_and_health_answer_without_a_token(api: ApiServer) -> None:
    """The reference is what an integrator reads before being given a token: it describes this
    version of the API and holds nothing of the site (no station, tag or person)."""
    spec = httpx.get(f"{api.url}/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "Écrêteur API"
    assert not {"lauragais", "Ganguise", "Sonde"} & set(spec.text.replace('"', " ").replace(".", " ").split())
    assert httpx.get(f"{api.url}/docs").status_code == 200
    assert httpx.get(f"{api.url}/health").status_code == 200
    # what the README says answers without a token is exactly what does
    readme = (REPO / "README.md").read_text(encoding="utf-8").replace("\n", " ")
    said = readme[readme.index("Every endpoint needs a bearer token but") :].split(";")[0]
    public = {f"/api/v1/{name.removeprefix('/api/v1/')}" for name in re.findall(r"`([^`]+)`", said)}
    answered = set()
    for path in [p for p, methods in spec.json()["paths"].items() if "get" in methods and "{" not in p]:
        if httpx.get(api.url.removesuffix("/api/v1") + path).status_code != 401:
            answered.add(path)
    assert httpx.get(f"{api.url}/docs").status_code == 200  # neither is in the description itself
    assert answered | {"/api/v1/docs", "/api/v1/openapi.json"} == public


def metric(api: ApiServer, name: str) -> float:
    text = httpx.get(f"{api.url}/metrics", headers=api.headers("read")).text
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")))


def test_a_stream_client_that_does_not_read_is_closed_with_1013_once_over_its_budget(tmp_path: Path) -> None:
    """It is dropped at once (its waiting texts freed), told 1013 when it reads again, and
    the other clients and the ingestion go on; a frame bigger than a control message is refused."""
    import asyncio
    import socket

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    api = ApiServer(tmp_path, site=SITE.replace("api: {", "api: {stream_client_mib: 0.25, "))
    api.start(with_station=False)
    url = api.url.replace("http", "ws", 1) + "/events"

    async def scenario() -> tuple[int | None, int | None]:
        tight = socket.socket()
        tight.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a phone on a bad link
        tight.connect(("127.0.0.1", api.api_port))
        async with connect(url, sock=tight, additional_headers=api.headers("read"), max_queue=1,
                           compression=None) as slow:  # fmt: skip
            async with httpx.AsyncClient() as client:
                for batch in range(200):
                    ts = now_iso(-600 + batch)
                    samples = [{"tag": "sondes.probe", "ts": ts, "value": float(i % 40)} for i in range(1000)]
                    posted = await client.post(f"{api.url}/samples", json={"samples": samples},
                                               headers=api.headers("ingest"))  # fmt: skip
                    assert posted.status_code == 200
                    if batch % 20 == 19 and metric(api, "ecreteur_stream_dropped_total") >= 1:
                        break
            assert metric(api, "ecreteur_stream_dropped_total") == 1
            assert metric(api, "ecreteur_stream_queued_bytes") == 0  # its texts were freed at once
            try:
                while True:
                    await asyncio.wait_for(slow.recv(), 60)
            except ConnectionClosed:
                pass
            slow_code = slow.close_code
        async with connect(url, additional_headers=api.headers("read")) as chatty:
            await chatty.recv()  # hello
            await chatty.send("x" * 10_000)
            try:
                while True:
                    await asyncio.wait_for(chatty.recv(), 60)
            except ConnectionClosed:
                pass
            return slow_code, chatty.close_code

    try:
        slow_code, chatty_code = asyncio.run(scenario())
        assert slow_code == 1013
        assert chatty_code == 1009  # message too big
    finally:
        api.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """The server's data directory on its own 8 MiB file system (tmpfs: needs root, as CI is)."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(data)], check=True)
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def fill(directory: Path) -> Path:
    """A ballast file that takes every free byte left."""
    import os

    ballast = directory / "ballast"
    handle = os.open(ballast, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(handle, b"\0" * 4096):
            pass
    except OSError:  # no space left: what we wanted
        pass
    finally:
        os.close(handle)
    return ballast


def test_a_full_disk_answers_503_with_why_raises_an_alarm_and_resumes_losing_nothing(
    small_disk: Path,
) -> None:
    api = ApiServer(small_disk.parent)
    api.start(with_station=False)
    try:
        stored, refused, base = 0, None, utcnow() - timedelta(days=2)

        def post(batch: int) -> httpx.Response:
            first = base + timedelta(seconds=batch * 500)
            samples = [{"tag": "sondes.probe", "ts": (first + timedelta(seconds=i)).isoformat(),
                        "value": float(i % 40)} for i in range(500)]  # fmt: skip
            headers = {**api.headers("ingest"), "Accept-Language": "fr-FR"}
            return httpx.post(f"{api.url}/samples", json={"samples": samples}, headers=headers, timeout=30)

        assert post(0).status_code == 200
        stored += 500
        ballast = fill(small_disk)
        for batch in range(1, 200):
            answer = post(batch)
            if answer.status_code != 200:
                refused = answer
                break
            stored += 500
        assert refused is not None and refused.status_code == 503, "the full disk never refused a batch"
        assert refused.json()["detail"].startswith("historique : disque plein ; échantillons non enregistrés")
        assert int(refused.headers["Retry-After"]) > 0
        assert httpx.get(f"{api.url}/health").json()["historian"] == "disk_full"
        assert metric(api, 'ecreteur_historian_failing{reason="disk_full"}') == 1
        alarms = httpx.get(f"{api.url}/alarms", headers=api.headers("read")).json()
        alarm = next(a for a in alarms if a["id"] == "supervision:supervision:historian")
        assert alarm["active"] and "l'historique n'enregistre plus (disque plein)" in alarm["message_fr"]

        ballast.unlink()  # the administrator frees space: the next post is stored
        wait_until(lambda: post(200).status_code == 200, what="writes resumed")
        stored += 500
        assert httpx.get(f"{api.url}/health").json()["historian"] == "stores"
        alarms = httpx.get(f"{api.url}/alarms", headers=api.headers("read")).json()
        assert not next(a for a in alarms if a["id"] == "supervision:supervision:historian")["active"]
        params = {"from": base.isoformat(), "to": utcnow().isoformat(), "max_points": 10}
        history = httpx.get(f"{api.url}/tags/sondes.probe/history", params=params,
                            headers=api.headers("read")).json()  # fmt: skip
        assert sum(b["count"] for b in history["buckets"]) == stored  # every batch answered 200 is there
    finally:
        api.stop()
