"""Views, one module per area: the member pages (relationship), feedback and reflection
(feedback), the calendar (calendar) and the coordinator views (coordination)."""
