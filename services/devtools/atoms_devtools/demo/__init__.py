"""`atoms demo`: the main job end to end, on one machine, with the local AuthKit emulator."""
