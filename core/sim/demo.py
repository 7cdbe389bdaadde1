"""The demo site as it runs on a laptop: its web address, and its paging into the demo's own
mailbox (``core.sim.mailbox``), so that a newcomer sees the cascade without a mail server or a
Twilio account. The desktop, the terminal and the web demo page alike.
"""

from __future__ import annotations

from core.config.schema import SiteConfig

DEMO_WEB = "http://127.0.0.1:8080/"  # the demo site's api section: loopback only


def demo_paging(config: SiteConfig, smtp_port: int) -> SiteConfig:
    """The demo site as a server pages: critical and high alarms to the on-call team, then to
    the managers, by e-mail to the demo's mailbox; pages carry incident links to these pages."""
    from core.config.notify import Escalation, Notify
    from core.config.schema import Links

    level = {"channels": ["email"], "delay_min": 15}
    levels = [{"targets": [{"oncall": team}], **level} for team in ("astreinte", "direction")]
    escalation = Escalation.model_validate(
        {
            "routes": [{"priorities": ["critical", "high"], "policy": "crue"}],
            "policies": [{"id": "crue", "repeat": 2, "levels": levels}],
        }
    )
    smtp = {"host": "127.0.0.1", "port": smtp_port, "security": "none", "sender": "ecreteur-demo@example.org"}
    api = config.api.model_copy(update={
        "links": Links(public_url=DEMO_WEB.rstrip("/")), "embed_origins": [DEMO_WEB.rstrip("/")],
    })  # fmt: skip
    notify = Notify.model_validate({"smtp": smtp})
    return config.model_copy(update={"escalation": escalation, "notify": notify, "api": api})
