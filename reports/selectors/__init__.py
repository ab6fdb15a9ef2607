"""Reads for coordinators' dashboards, exports and reports: aggregates over relationships,
never a private note, a reflection or an individual answer."""
