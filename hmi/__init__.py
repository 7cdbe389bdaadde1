"""Écrêteur desktop HMI (PySide6 + pyqtgraph + qasync). Talks to core through runtime, bus and model."""
