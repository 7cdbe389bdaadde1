"""Voice pages: a Twilio call that speaks the alarm and asks for "1" to acknowledge.

The TwiML goes inline with the call request, so no public URL has to serve it; the key press
comes back to the server's API (``<Gather action>``) with the delivery key in the URL.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from core import words
from core.config.notify import Twilio
from core.notify.channels import Outbound
from core.notify.twilio.client import TwilioChannel, callback, calling
from core.notify.twilio.webhooks import STATUS_PATH, VOICE_PATH

VOICES = {"fr": "fr-FR", "en": "en-GB"}


def page_twiml(twilio: Twilio, message: Outbound) -> str:
    voice = VOICES.get(message.language, "fr-FR")
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1, action=callback(twilio, VOICE_PATH, message.key), method="POST", timeout=10
    )
    for _ in range(2):  # said twice: the first words are often lost while waking up
        gather.say(message.text, language=voice)
        gather.say(words.say("call.press", message.language), language=voice)
    response.say(words.say("call.bye", message.language), language=voice)
    return str(response)


def answer_twiml(language: str, acknowledged: bool) -> str:
    response = VoiceResponse()
    said = words.say("call.acknowledged" if acknowledged else "call.not_acknowledged", language)
    response.say(said, language=VOICES.get(language, "fr-FR"))
    return str(response)


class VoiceChannel(TwilioChannel):
    name = "voice"

    def deliver(self, message: Outbound) -> str:
        return calling(
            lambda: self._client.calls.create(
                to=message.to,
                from_=self.twilio.from_number,
                twiml=page_twiml(self.twilio, message),
                status_callback=callback(self.twilio, STATUS_PATH, message.key),
            )
        )
