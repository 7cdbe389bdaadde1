"""Plugins that fail, for the isolation tests: each must stop alone, named in the log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.acquisition.link import SourceLink
from core.notify.channels import Outbound


class BrokenChannel:
    name = "broken"

    def deliver(self, message: Outbound) -> str:
        raise RuntimeError("the chat SDK exploded")

    def close(self) -> None:
        pass


def create_channel(channel_id: str, settings: Mapping[str, Any]) -> BrokenChannel:
    return BrokenChannel()


class BrokenCard:
    def __init__(self, card: Any, runtime: Any) -> None:
        raise ValueError("this card cannot draw")


class BrokenSource(SourceLink):
    async def run(self) -> None:
        raise RuntimeError("the fieldbus driver crashed")


def create_source(station: Any, tags: Sequence[Any], bus: Any, clock: Any) -> BrokenSource:
    return BrokenSource(station, tags, bus, clock)
