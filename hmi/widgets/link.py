"""How a station's link reads on screen: the same words on the overview and in the status bar.

A refused station (unknown certificate, wrong password…) is not just "offline": the operator
must see that a person has to act, and which kind of problem it is; the full reason (with the
certificate's fingerprint and the command that trusts it) is in the access alarm's message.
"""

from __future__ import annotations

from core.model import ConnectionState, StationStatus
from core.words import outage
from hmi.i18n import language, tr

_FAULTS = {
    "certificate": "certificate not trusted",
    "policy": "security policy not offered",
    "authentication": "password refused",
    "secret": "password missing",
}


def link_text(status: StationStatus, max_skew_s: float) -> tuple[str, bool]:
    """The words for ``status`` and whether the link is healthy."""
    online = status.state in (ConnectionState.CONNECTED, ConnectionState.BACKFILLING)
    if online:
        text = tr("online")
    elif status.fault is not None:
        text = "✖ " + tr("REFUSED") + f" ({tr(_FAULTS.get(status.fault, 'refused'))})"
    else:
        text = "✖ " + tr("OFFLINE")
    skew = status.clock_skew_s
    if skew is not None and abs(skew) > max_skew_s:
        text += " — " + tr("clock off by") + f" {skew:+.0f} s"
        return text, False
    return text, online


def link_reason(status: StationStatus, expected_period_s: float) -> str:
    """Why the link is as it is, in the operator's language; the log's technical detail below."""
    said = outage(status.reason, language(), expected_period_s)
    return "\n".join(part for part in (said, status.detail) if part)
