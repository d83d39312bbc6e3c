"""Pure rules of the service: plans computed from state, with no I/O (storage commits them)."""
