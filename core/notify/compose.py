"""What one delivery says, to whom: a page, who acknowledged, or that all is back to normal.

The words are ``messages``'; this module gathers what they need at the moment of sending: the
incident's alarms with their dam, value and present situation (trend, crest), how many others
are paged, the person's incident link, the person's language and the roster's time zone, and
how late a page left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from core.clock import Clock
from core.config.notify import BUILT_IN_CHANNELS, BuiltIn, Person, Policy
from core.config.schema import SiteConfig
from core.model import Situation
from core.notify import gsm, messages
from core.notify.channels import Outbound
from core.notify.links import IncidentLinks
from core.notify.roster import OnCall
from core.notify.store import Delivery, DeliveryKind, Incident, PagingStore

Situations = Callable[[str], Situation | None]  # a tag's present (value, trend, crest)


class Composer:
    def __init__(
        self,
        config: SiteConfig,
        oncall: OnCall,
        store: PagingStore,
        clock: Clock,
        policies: Mapping[str, Policy],
        situation: Situations | None = None,
    ) -> None:
        self.config, self.oncall, self.store, self.clock = config, oncall, store, clock
        self.policies, self._situation = policies, situation
        self.links: IncidentLinks | None = None  # set by a server that serves the incident pages

    def outbound(
        self,
        incident: Incident,
        person: Person,
        channel: str,
        key: str,
        kind: DeliveryKind,
        by: str | None,
        late: timedelta | None = None,
    ) -> Outbound:
        language, zone = person.language, self.oncall.zone
        if channel in BUILT_IN_CHANNELS:
            to = (person.email if channel == BuiltIn.EMAIL else person.phone) or ""
        else:
            to = person.contacts.get(channel, person.name)
        now = self.clock.now()
        if kind == DeliveryKind.ACK:
            subject, text = messages.acknowledged(incident.code, by or "?", now, zone, language)
        elif kind == DeliveryKind.CLEAR:
            subject, text = messages.cleared(incident.code, now, zone, language)
        else:
            lines, others = self._lines(incident), len(self._others(incident, person))
            link = self.links.url(incident.id, person.id, now) if self.links is not None else ""
            room = gsm.PART * messages.SMS_SEGMENTS - (len(link) + 1 if link else 0)
            if channel == BuiltIn.EMAIL:
                subject, text = messages.email(
                    incident.code, lines, language, incident.opened_at, zone, others
                )
            elif channel == BuiltIn.VOICE:
                subject, text = "", messages.voice(incident.code, lines, language, zone)
            elif channel == BuiltIn.SMS:
                subject, text = "", messages.sms(incident.code, lines, language, zone, others, room)
            else:  # a plugin's channel (a chat): the e-mail's subject, the SMS's short text
                subject = messages.email(incident.code, lines, language, incident.opened_at, zone)[0]
                text = messages.sms(incident.code, lines, language, zone, others, room)
            if link and channel != BuiltIn.VOICE:
                text += ("\n" if channel == BuiltIn.EMAIL else " ") + link
            if late is not None:
                note = messages.late(late.total_seconds(), language)
                subject, text = (f"{note} — {subject}" if subject else ""), f"{note} — {text}"
        return Outbound(
            key, to, language, subject, text, gather=kind == DeliveryKind.PAGE and channel == BuiltIn.VOICE
        )

    def again(self, delivery: Delivery) -> Outbound | None:
        """A retry resumed after a restart: its words written again (None: no longer known)."""
        incident = self.store.incident(delivery.incident)
        person = self.oncall.people.get(delivery.person)
        if incident is None or person is None:
            return None
        return self.outbound(
            incident, person, delivery.channel, delivery.key, delivery.kind, incident.acked_by
        )

    def _lines(self, incident: Incident) -> list[messages.AlarmLine]:
        lines = []
        for paged in self.store.alarms(incident.id):
            event = paged.event
            tag = self.config.tag(event.tag)
            station = self.config.station(tag.station).name if tag else event.tag.split(".")[0]
            now = self._situation(event.tag) if self._situation else None
            lines.append(
                messages.AlarmLine(
                    event.alarm,
                    station,
                    event.priority,
                    event.message_fr,
                    event.message_en,
                    event.value,
                    tag.unit if tag else "",
                    now,
                )
            )
        return lines

    def _others(self, incident: Incident, person: Person) -> set[str]:
        """Who else this incident has paged or is paging at its level: a page says how many."""
        paged = {d.person for d in self.store.deliveries(incident.id) if d.kind == DeliveryKind.PAGE}
        policy = self.policies.get(incident.policy)
        if policy is not None and incident.level < len(policy.levels):
            paged |= {
                p.id for p in self.oncall.level(policy.levels[incident.level].targets, incident.level_at)
            }
        paged.discard(person.id)
        return paged
