"""Incident links' tokens (core.notify.links): genuine, unexpired, unaltered, or refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.notify.links import IncidentLinks, LinkRefused, link_key

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def links(key: bytes = b"k" * 32) -> IncidentLinks:
    return IncidentLinks(key, "https://scada.example/", timedelta(minutes=120))


def test_a_link_names_its_incident_and_person_until_it_expires() -> None:
    url = links().url(12, "alice", NOW)
    assert url.startswith("https://scada.example/i/") and len(url) < 80  # an SMS has room for it
    claim = links().read(url.rsplit("/", 1)[1], NOW + timedelta(minutes=119))
    assert (claim.incident, claim.person, claim.expires) == (12, "alice", NOW + timedelta(minutes=120))
    with pytest.raises(LinkRefused, match="expired"):
        links().read(url.rsplit("/", 1)[1], NOW + timedelta(minutes=120))


def test_two_links_for_the_same_page_differ_so_each_is_used_once() -> None:
    first, second = (links().read(links().token(12, "alice", NOW), NOW) for _ in range(2))
    assert first.nonce != second.nonce


@pytest.mark.parametrize("token", ["", "not base64 !", "AAAA", "A" * 60])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(LinkRefused, match="not valid"):
        links().read(token, NOW)


def test_an_altered_or_foreign_token_is_refused() -> None:
    token = links().token(12, "alice", NOW)
    flipped = token[:10] + ("B" if token[10] != "B" else "C") + token[11:]
    with pytest.raises(LinkRefused):
        links().read(flipped, NOW)
    with pytest.raises(LinkRefused, match="not valid"):
        links(b"x" * 32).read(token, NOW)


def test_the_key_file_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "links.key"
    key = link_key(path)
    assert len(key) == 32 and link_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
