"""The grammar of an on-call person's SMS reply: ``OK 12``, ``ack #12``, ``ok12``."""

from __future__ import annotations

import re

_REPLY = re.compile(r"^\s*(?:OK|ACK)\s*#?\s*(\d+)\s*$", re.IGNORECASE)


def parse_reply(body: str) -> int | None:
    """The incident code in an SMS reply such as ``OK 12`` or ``ack #12``; None otherwise."""
    match = _REPLY.match(body)
    return int(match.group(1)) if match else None
