"""The browser session's cookies and the CSRF rule (core.api.cookies)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.responses import Response

from core.api.cookies import close_browser_session, csrf_refusal, open_browser_session, page_policy


def cookies_set(tls: bool) -> list[str]:
    response = Response()
    open_browser_session(response, "ecs_secret", datetime.now(UTC) + timedelta(hours=12), tls)
    return [value.decode() for name, value in response.raw_headers if name == b"set-cookie"]


def test_the_session_cookie_is_httponly_strict_and_secure_under_tls() -> None:
    session, csrf = cookies_set(tls=True)
    assert session.startswith("ecr_session=ecs_secret;")
    assert "HttpOnly" in session and "SameSite=strict" in session and "Secure" in session
    assert csrf.startswith("ecr_csrf=") and "HttpOnly" not in csrf and "Secure" in csrf  # our scripts read it
    plain, _ = cookies_set(tls=False)
    assert "Secure" not in plain  # a browser would drop a Secure cookie sent over plain HTTP


def test_signing_out_expires_both_cookies() -> None:
    response = Response()
    close_browser_session(response, tls=False)
    cleared = [value.decode() for name, value in response.raw_headers if name == b"set-cookie"]
    assert [c.split("=")[0] for c in cleared] == ["ecr_session", "ecr_csrf"]
    assert all("Max-Age=0" in c for c in cleared)


def test_a_state_change_needs_the_csrf_header_and_our_own_origin() -> None:
    cookies = {"ecr_session": "x", "ecr_csrf": "token-1"}
    host = {"host": "scada.example:8443"}
    assert csrf_refusal("GET", host, cookies, tls=True) is None  # reading changes nothing
    assert csrf_refusal("POST", {**host, "x-csrf-token": "token-1"}, cookies, tls=True) is None
    same = {
        **host,
        "x-csrf-token": "token-1",
        "origin": "https://scada.example:8443",
        "sec-fetch-site": "same-origin",
    }
    assert csrf_refusal("POST", same, cookies, tls=True) is None
    assert "X-CSRF-Token" in (csrf_refusal("POST", host, cookies, tls=True) or "")
    assert "X-CSRF-Token" in (
        csrf_refusal("POST", {**host, "x-csrf-token": "other"}, cookies, tls=True) or ""
    )
    forged = {**host, "x-csrf-token": "token-1", "origin": "https://evil.example"}
    assert "https://evil.example" in (csrf_refusal("POST", forged, cookies, tls=True) or "")
    cross = {**host, "x-csrf-token": "token-1", "sec-fetch-site": "cross-site"}
    assert "cross-site" in (csrf_refusal("DELETE", cross, cookies, tls=True) or "")


def test_the_pages_policy_has_no_inline_script_and_frames_only_where_told() -> None:
    policy = page_policy()
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert policy.endswith("frame-ancestors 'none'")
    assert page_policy("https://portail.example").endswith("frame-ancestors https://portail.example")
