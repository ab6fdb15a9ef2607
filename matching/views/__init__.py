"""Views, one module per area: coordinator pages for runs and review (runs), matching settings
and exclusions (setup), relationships (relationships) and self-service (requests)."""
