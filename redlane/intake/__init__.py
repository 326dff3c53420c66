"""Intake of the transport sector's data: one module per source format."""
