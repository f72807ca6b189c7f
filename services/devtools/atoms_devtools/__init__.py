"""atoms_devtools: the local AuthKit, the dev model, the load generator and the demo (development only)."""
