"""A delivery's life: claimed in the durable store, sent once in the background, retried on a
transient error, settled with the provider's answer.

The row is written (claimed) before the provider is called, so a message is never sent twice:
after a crash a delivery found ``sending`` is settled ``unknown`` and not sent again; one found
waiting for a retry is composed again and sent. A channel that reports itself down (the SMTP
server or Twilio unreachable) is skipped for ``channel_down_s``, so the next channel takes over
at once instead of every page waiting for the same time-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from core.clock import Clock, pause
from core.config.notify import BUILT_IN_CHANNELS, BuiltIn, Escalation, Person
from core.notify.channels import Channel, ChannelDown, Outbound, Rejected, Transient
from core.notify.store import (
    CANCELLED,
    FAILED,
    RETRY,
    SENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    Delivery,
    DeliveryKind,
    DeliveryState,
    PagingStore,
)

_LOGGER = logging.getLogger(__name__)


class Outbox:
    def __init__(
        self,
        store: PagingStore,
        clock: Clock,
        channels: Mapping[str, Channel],
        escalation: Escalation,
        leading: Callable[[], bool],
        wanted: Callable[[Delivery], Awaitable[bool]],
        recompose: Callable[[Delivery], Outbound | None],
        page_failed: Callable[[], None],
    ) -> None:
        """``wanted(delivery)`` says whether a page still has to leave (its incident open and
        nowhere acknowledged); ``recompose`` writes again a retry resumed after a restart;
        ``page_failed()`` moves the escalation on to the next channel or person."""
        self.store, self.clock, self.channels, self.escalation = store, clock, dict(channels), escalation
        self._leading, self._wanted, self._recompose, self._page_failed = (
            leading, wanted, recompose, page_failed,
        )  # fmt: skip
        self.tasks: set[asyncio.Task[None]] = set()
        self._down_until: dict[str, datetime] = {}
        self._inflight: set[str] = set()  # delivery keys being sent by this process
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="notify")

    def post(self, delivery: Delivery, compose: Callable[[], Outbound]) -> Delivery | None:
        """Claim the delivery's key, then send it in the background (or skip a channel that is
        down); a key already claimed returns the delivery on record."""
        if not self.store.claim(delivery):
            return self.store.delivery(delivery.key)
        down_until = self._down_until.get(delivery.channel)
        if down_until is not None and delivery.created_at < down_until:
            until = down_until.isoformat(timespec="seconds")
            self.settle(delivery, SKIPPED, f"{delivery.channel} down until {until}", delivery.created_at)
            return delivery
        self._spawn(delivery, compose())
        return delivery

    def recover(self) -> None:
        """Settle what a crash (of this server or of the leader it replaces) interrupted."""
        now = self.clock.now()
        for delivery in self.store.deliveries(None, SENDING):
            if delivery.key not in self._inflight:
                self.settle(delivery, UNKNOWN, "interrupted by a restart; not sent again", now)
        for delivery in self.store.deliveries(None, RETRY):
            if delivery.key not in self._inflight:
                outbound = self._recompose(delivery)
                if outbound is None:
                    self.settle(delivery, FAILED, "incident or person no longer known", now)
                else:
                    self._spawn(delivery, outbound)

    def reaches(self, person: Person, channel: str) -> bool:
        """The channel is configured here and the person has a contact on it."""
        if channel not in self.channels:
            return False
        if channel not in BUILT_IN_CHANNELS:
            return True  # a plugin's channel: the person's contact there, or their name
        return bool(person.email) if channel == BuiltIn.EMAIL else bool(person.phone)

    def channels_down(self) -> dict[str, datetime]:
        """The channels skipped now, and until when."""
        return {name: until for name in self.channels if (until := self.channel_down(name)) is not None}

    def channel_down(self, channel: str) -> datetime | None:
        until = self._down_until.get(channel)
        return until if until is not None and until > self.clock.now() else None

    def settle(self, delivery: Delivery, state: DeliveryState, detail: str, at: datetime) -> None:
        delivery.state, delivery.detail, delivery.updated_at = state, detail, at
        self.store.update(delivery)
        self.store.attempt(delivery.key, at, state, detail)

    async def stop(self) -> None:
        if self.tasks:  # let requests in flight finish briefly, so their outcome is recorded
            _done, pending = await asyncio.wait(self.tasks, timeout=5.0)
            for task in pending:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*pending, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
        for channel in self.channels.values():
            channel.close()

    def _spawn(self, delivery: Delivery, outbound: Outbound) -> None:
        task = asyncio.get_running_loop().create_task(
            self._send(delivery, outbound), name=f"page {delivery.key}"
        )
        self.tasks.add(task)
        self._inflight.add(delivery.key)
        task.add_done_callback(self.tasks.discard)
        key = delivery.key
        task.add_done_callback(lambda _task: self._inflight.discard(key))

    async def _send(self, delivery: Delivery, outbound: Outbound) -> None:
        channel = self.channels[delivery.channel]
        loop = asyncio.get_running_loop()
        if delivery.attempts == 0 and not await self.store.reserve(delivery):
            _LOGGER.warning("%s already claimed by another server: not sent from here", delivery.key)
            self.settle(delivery, SKIPPED, "claimed by another server", self.clock.now())
            return
        while True:
            if not await self._wanted(delivery):
                why = "acknowledged before the retry" if delivery.attempts else "acknowledged before it left"
                self.settle(delivery, CANCELLED, why, self.clock.now())
                return
            if not self._leading():  # fenced: lost the lead (a pause, a cut) since it was claimed
                self.settle(delivery, SKIPPED, "not sent: this server no longer leads", self.clock.now())
                return
            delivery.attempts += 1
            delivery.state = SENDING
            self.store.update(delivery)
            try:
                provider_id = await loop.run_in_executor(self._executor, channel.deliver, outbound)
            except Transient as err:
                now = self.clock.now()
                if delivery.attempts <= self.escalation.retries:
                    backoff = self.escalation.retry_base_s * 2 ** (delivery.attempts - 1)
                    self.settle(delivery, RETRY, f"{err}; retry in {backoff:g} s", now)
                    await pause(self.clock, backoff, real=True)
                    continue
                self._failed(delivery, str(err))
            except ChannelDown as err:
                self._down_until[delivery.channel] = self.clock.now() + timedelta(
                    seconds=self.escalation.channel_down_s
                )
                self._failed(delivery, str(err))
            except Rejected as err:
                self._failed(delivery, str(err))
            except Exception as err:  # a bug or an unexpected library error: journal it, move on
                _LOGGER.exception("delivery %s failed unexpectedly", delivery.key)
                self._failed(delivery, f"unexpected: {err!r}")
            else:
                self.settle(delivery, SENT, provider_id, self.clock.now())
                _LOGGER.info(
                    "%s %s sent to %s by %s", delivery.kind, delivery.key, delivery.person, delivery.channel
                )
            return

    def _failed(self, delivery: Delivery, detail: str) -> None:
        _LOGGER.warning(
            "%s %s to %s by %s failed: %s",
            delivery.kind,
            delivery.key,
            delivery.person,
            delivery.channel,
            detail,
        )
        self.settle(delivery, FAILED, detail, self.clock.now())
        if delivery.kind == DeliveryKind.PAGE:
            self._page_failed()  # the next channel or person, now
