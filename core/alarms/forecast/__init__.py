"""The crest forecast: a flood routed through the reservoir's own physics (level-pool routing)."""
