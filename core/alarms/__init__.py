"""ISA-18.2 alarm management: rules, the pure state machine, the engine, journal and KPIs."""
