"""The REST API of the headless server (the only web-framework importer)."""
