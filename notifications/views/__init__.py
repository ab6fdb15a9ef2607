"""Pages of the notifications app, by area."""
