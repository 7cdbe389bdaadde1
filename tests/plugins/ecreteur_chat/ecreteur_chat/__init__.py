"""An example plugin package for Écrêteur (docs/PLUGINS.md): a chat channel and a dashboard card."""
