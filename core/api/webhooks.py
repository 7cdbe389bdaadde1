"""Twilio's webhooks: delivery statuses, SMS replies (``OK 12``) and key presses during a call.

No ``from __future__ import annotations`` (FastAPI reads annotations at run time).

Twilio cannot hold a bearer token, so each request must carry a valid ``X-Twilio-Signature``
over the public URL and its form parameters (403 otherwise). Twilio retries a webhook it thinks
failed; the retry carries the same ``I-Twilio-Idempotency-Token``, and is answered without
acting twice. These routes are left out of the OpenAPI document: only Twilio calls them.
"""

import hashlib
from typing import Protocol
from urllib.parse import parse_qsl

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response

from core.config.schema import SiteConfig
from core.notify.phone import Phone
from core.notify.twilio.sms import reply_twiml
from core.notify.twilio.voice import answer_twiml
from core.notify.twilio.webhooks import SMS_PATH, STATUS_PATH, VOICE_PATH, Webhooks

_XML = "application/xml"


class Paging(Protocol):
    """What the webhooks need of the runtime (read-only: the routes never replace them)."""

    @property
    def config(self) -> SiteConfig: ...
    @property
    def phone(self) -> Phone | None: ...
    @property
    def webhooks(self) -> Webhooks | None: ...


def add_twilio_webhooks(app: FastAPI, runtime: Paging) -> None:
    async def verified(request: Request) -> tuple[dict[str, str], bool]:
        """The form parameters if Twilio signed them, and whether this is the first delivery."""
        if runtime.webhooks is None or runtime.phone is None:
            raise HTTPException(404, "paging by Twilio is not configured on this server")
        body = await request.body()
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not runtime.webhooks.authentic(path, params, request.headers.get("X-Twilio-Signature", "")):
            raise HTTPException(403, "invalid or missing X-Twilio-Signature")
        token = (
            request.headers.get("I-Twilio-Idempotency-Token")
            or hashlib.sha256(path.encode() + body).hexdigest()
        )
        return params, runtime.phone.first_time(token)

    @app.post(STATUS_PATH, include_in_schema=False)
    async def status(request: Request, d: str = "") -> Response:
        params, first = await verified(request)
        assert runtime.phone is not None
        state = params.get("MessageStatus") or params.get("CallStatus") or ""
        if first and d and state:
            runtime.phone.on_status(d, state, params.get("ErrorCode", ""))
        return Response(status_code=204)

    @app.post(SMS_PATH, include_in_schema=False)
    async def sms_reply(request: Request) -> Response:
        params, first = await verified(request)
        assert runtime.phone is not None
        if not first:
            return Response(reply_twiml(""), media_type=_XML)
        reply = runtime.phone.on_reply(params.get("From", ""), params.get("Body", ""))
        if reply.acknowledged:
            await runtime.phone.settled()  # no server pages after "acknowledged"
        return Response(reply_twiml(reply.text), media_type=_XML)

    @app.post(VOICE_PATH, include_in_schema=False)
    async def keypress(request: Request, d: str = "") -> Response:
        params, first = await verified(request)
        assert runtime.phone is not None
        reply = runtime.phone.on_keypress(d, params.get("Digits", "")) if first else None
        if reply is not None and reply.acknowledged:
            await runtime.phone.settled()
        language = reply.language if reply else runtime.config.site.language
        return Response(answer_twiml(language, bool(reply and reply.acknowledged)), media_type=_XML)
