"""Metrics, dashboards, alerts and logs of the platform."""
