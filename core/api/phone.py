"""The demo's simulated phone: the pages the demo's mailbox received, for a newcomer to read.

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).

Only ``ecreteur demo --web`` registers it (a real site's pages go to real phones): each page
with its incident link, so the whole cascade can be followed and answered from the browser.
"""

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from core.api.auth import API, ERRORS, Access
from core.clock import Clock
from core.sim.mailbox import read_outbox
from core.storage.tokens import Token


class PhonePage(BaseModel):
    at: datetime
    to: str
    subject: str
    text: str
    link: str | None


def router(access: Access, folder: Path, clock: Clock) -> APIRouter:
    routes = APIRouter()

    @routes.get(
        f"{API}/demo/phone", response_model=list[PhonePage], responses=ERRORS, include_in_schema=False
    )
    async def phone(_: Annotated[Token, Depends(access.need("read"))]) -> Any:
        return [PhonePage(**vars(page)) for page in read_outbox(folder, clock=clock)]

    return routes
