"""Reusable UI pieces: each is a `show(..., key=...)` function owning its session-state key."""
