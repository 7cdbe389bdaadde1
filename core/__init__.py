"""Écrêteur core engine: acquisition, alarms, notification, storage. Never imports Qt."""
