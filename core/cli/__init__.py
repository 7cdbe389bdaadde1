"""The ``ecreteur`` command (``main``): front ends only, no engine lives here."""

from core.cli.main import main

__all__ = ["main"]
