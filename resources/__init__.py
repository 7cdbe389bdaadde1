"""Data shipped with Écrêteur, installed as the ``ecreteur_resources`` package (core/paths.py)."""
