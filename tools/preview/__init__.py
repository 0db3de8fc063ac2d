"""Offline preview of a stack: summary, artifacts (`--out`), pull-request diff (`--diff`).

`python -m tools.preview <stack> [--out DIR] [--diff GIT_REV] [--format text|markdown]`
"""
