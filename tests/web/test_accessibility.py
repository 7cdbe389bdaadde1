"""Every page on a phone (390 × 844) and on a desk, by day and by night: axe-core finds no
serious or critical accessibility violation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.integration.api_server import ApiServer
from tests.web.conftest import DESK, PHONE, axe_script, base, post_samples, sign_in

PAGES = ["/login", "/", "/alarms", "/oncall", "/dams/lauragais"]
VIEWS = {"phone-day": (PHONE, "light"), "phone-night": (PHONE, "dark"), "desk-day": (DESK, "light"),
         "desk-night": (DESK, "dark")}  # fmt: skip


def serious(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.web
@pytest.mark.parametrize("view", list(VIEWS))
def test_no_serious_accessibility_violation_on_any_page(web: ApiServer, browser: Browser, view: str) -> None:
    viewport, scheme = VIEWS[view]
    now = datetime.now(UTC).isoformat()
    post_samples(
        web, ("lauragais.level", 14.1, now), ("lauragais.inflow", 31.5, now), ("lauragais.probe", 65.0, now)
    )
    # bypass_csp: axe is injected by the test; the pages themselves run under their policy
    context = browser.new_context(**viewport, locale="fr-FR", color_scheme=scheme, bypass_csp=True)
    try:
        page = context.new_page()
        found: dict[str, list[str]] = {}
        for path in PAGES:
            if path == "/login":
                page.goto(base(web) + "/login")
            elif page.url.endswith("/login") or "/login?" in page.url:
                sign_in(page, web, then=path)
            else:
                page.goto(base(web) + path)
            expect(page.locator("#loading")).to_have_count(0)
            page.add_script_tag(path=str(axe_script()))
            result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
            if problems := serious(result["violations"]):
                found[path] = problems
        assert found == {}
    finally:
        context.close()
