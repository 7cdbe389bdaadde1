"""schemathesis against the served OpenAPI document: every operation, with and without a valid token.

Checks: no server error, status codes, content types, headers and bodies as documented, and
malformed input refused. ``positive_data_acceptance`` is left out on purpose: the schema cannot
say that a tag must exist or that a timestamp must not lie in the future, and those samples are
rightly refused (per item, with the reason).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from core.model import utcnow
from tests.conftest import REPO
from tests.integration.api_server import ApiServer

# schemathesis takes one to two minutes a run here, longer on a loaded machine: the test waits
# as long as the run is allowed to (the subprocess's own time-out), not pytest's default
LONG_RUN = pytest.mark.timeout(660)
EXAMPLES = "200"  # per operation; and the stateful phase follows the schema's links
# Without a valid token every protected operation is refused before its input is read, so a few
# examples show the refusal conforms; the open operations (sign-in, health) get their 200 above.
REFUSED_EXAMPLES = "30"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path_factory.mktemp("contract"))
    server.start()
    # an alarm for the stateful phase to follow, from the alarm list to its commands and journal;
    # the probe's station is fed through the API: it counts as connected once a value came
    probe = {"samples": [{"tag": "sondes.probe", "ts": utcnow().isoformat(), "value": 60.0}]}
    assert (
        httpx.post(f"{server.url}/samples", json=probe, headers=server.headers("ingest")).status_code == 200
    )
    deadline = time.monotonic() + 30
    while httpx.get(f"{server.url}/ready", headers=server.headers("read")).status_code != 200:
        assert time.monotonic() < deadline, "the server never got ready"
        time.sleep(0.2)
    yield server
    server.stop()


def schemathesis(api: ApiServer, *extra: str, examples: str = EXAMPLES) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{api.url}/openapi.json", "--checks", "all",
               "--exclude-checks", "positive_data_acceptance", "--max-examples", examples,
               "--generation-deterministic", "--no-color", *extra]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=REPO)


@pytest.mark.slow
@LONG_RUN
def test_every_operation_conforms_with_a_valid_token(api: ApiServer) -> None:
    result = schemathesis(api, "-H", f"Authorization: Bearer {api.tokens['admin']}")
    assert result.returncode == 0, result.stdout[-8000:]
    assert "Tested: 26" in result.stdout  # every operation of the API, none skipped
    assert "✅ Stateful" in result.stdout and "Could not resolve parameter" not in result.stdout


@pytest.mark.slow
@LONG_RUN
def test_every_operation_conforms_without_a_token(api: ApiServer) -> None:
    result = schemathesis(api, "--generation-with-security-parameters", "false", examples=REFUSED_EXAMPLES)
    assert result.returncode == 0, result.stdout[-8000:]


@pytest.mark.slow
@LONG_RUN
def test_every_operation_conforms_with_a_wrong_token(api: ApiServer) -> None:
    result = schemathesis(api, "-H", "Authorization: Bearer ecr_not-a-token", examples=REFUSED_EXAMPLES)
    assert result.returncode == 0, result.stdout[-8000:]
