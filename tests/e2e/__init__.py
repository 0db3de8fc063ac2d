"""`make e2e`: the user's path with real software on loopback (see tests/e2e/__main__.py)."""
