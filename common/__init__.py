"""Small helpers every app's views and forms share. Imports Django and nothing of ours, so every
app may import it and the import graph stays one-way (scripts/check_imports.py)."""
