"""Exporter construction and the outage-aware wrappers around them."""
