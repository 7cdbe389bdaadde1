"""The notification cascade: roster, escalation, and the e-mail, SMS and voice channels."""
