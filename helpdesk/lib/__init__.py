"""Small helpers shared by every app: absolute URLs, the console mail backend."""
