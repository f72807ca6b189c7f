"""A local OTLP trace collector (`otlp_receiver`) and a terminal view of one trace (`trace_tree`)."""
