"""SMS pages, and the TwiML that answers an on-call person's SMS reply."""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse

from core.notify.channels import Outbound
from core.notify.twilio.client import TwilioChannel, callback, calling
from core.notify.twilio.webhooks import STATUS_PATH


class SmsChannel(TwilioChannel):
    name = "sms"

    def deliver(self, message: Outbound) -> str:
        return calling(
            lambda: self._client.messages.create(
                to=message.to,
                from_=self.twilio.from_number,
                body=message.text,
                status_callback=callback(self.twilio, STATUS_PATH, message.key),
            )
        )


def reply_twiml(text: str) -> str:
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
