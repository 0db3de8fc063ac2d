"""The agents' tools as plain functions (the agents wrap them; tests call them directly)."""
