"""The screens: overview (level 1), alarms; each takes the runtime and the bridge."""
