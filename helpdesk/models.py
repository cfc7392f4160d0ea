"""The project has no models of its own; this module makes post_migrate reach it."""
