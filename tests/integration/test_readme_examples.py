"""The README's curl examples, run as written against a real server on the demo site."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, away_from_the_demo
from tests.integration.api_server import ApiServer


def examples() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- api-examples -->\n```sh\n(.*?)```\n<!-- /api-examples -->", readme, re.S)
    assert block, "the README lost its api-examples block"
    return block.group(1)


@pytest.mark.slow
def test_readme_curl_examples_work_as_written(tmp_path: Path) -> None:
    assert shutil.which("curl"), "curl is needed"
    demo = (REPO / "resources" / "sites" / "demo.yaml").read_text(encoding="utf-8")
    api = ApiServer(tmp_path, site=away_from_the_demo(demo) + "\napi: {port: @API_PORT@}\n")
    api.start(with_station=False)
    try:
        env = {**os.environ, "ECRETEUR": api.url, "TOKEN": api.tokens["admin"]}
        command = ["bash", "-euo", "pipefail", "-c", examples()]
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=60)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert '{"accepted":1,"rejected":[]}' in out
        assert '"tag":"lauragais.level"' in out and '"value":12.4' in out
        assert "start,min,max,avg,last,count" in out
        assert '"status":"unacknowledged"' in out
        assert out.rstrip().endswith(
            '{"alarm":"level_lauragais:lauragais.level:H","done":true,"status":"acknowledged"}'
        )
    finally:
        api.stop()
