"""Voice pages: a Twilio call that speaks the alarm and asks for "1" to acknowledge.

The TwiML goes inline with the call request, so no public URL has to serve it; the key press
comes back to the server's API (``<Gather action>``) with the delivery key in the URL.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from core.config.notify import Twilio
from core.notify.channels import Outbound
from core.notify.twilio.client import TwilioChannel, callback, calling
from core.notify.twilio.webhooks import STATUS_PATH, VOICE_PATH

VOICES = {"fr": "fr-FR", "en": "en-GB"}
_PRESS = {
    "fr": "Pour acquitter l'alarme, appuyez sur 1.",
    "en": "To acknowledge the alarm, press 1.",
}
_BYE = {"fr": "Aucune réponse. Au revoir.", "en": "No answer. Goodbye."}
_DONE = {
    True: {"fr": "Alarme acquittée. Merci.", "en": "Alarm acknowledged. Thank you."},
    False: {"fr": "Alarme non acquittée.", "en": "Alarm not acknowledged."},
}


def page_twiml(twilio: Twilio, message: Outbound) -> str:
    voice = VOICES.get(message.language, "fr-FR")
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1, action=callback(twilio, VOICE_PATH, message.key), method="POST", timeout=10
    )
    for _ in range(2):  # said twice: the first words are often lost while waking up
        gather.say(message.text, language=voice)
        gather.say(_PRESS.get(message.language, _PRESS["fr"]), language=voice)
    response.say(_BYE.get(message.language, _BYE["fr"]), language=voice)
    return str(response)


def answer_twiml(language: str, acknowledged: bool) -> str:
    response = VoiceResponse()
    response.say(
        _DONE[acknowledged].get(language, _DONE[acknowledged]["fr"]), language=VOICES.get(language, "fr-FR")
    )
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
