"""Pages by SMS and voice call through Twilio, and Twilio's webhooks: the only twilio importers.

``client.py`` routes the official client to ``api_base`` and sorts its failures for the
cascade; ``sms.py`` and ``voice.py`` are the two channels; ``webhooks.py`` checks the callbacks'
signatures and names their paths; ``replies.py`` reads an on-call person's SMS reply (no twilio
import: the cascade uses it without loading the client).
"""
