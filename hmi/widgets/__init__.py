"""Reusable control-room widgets: level gauge, state lamp."""
