"""One way to create the chat-experience histograms: unit, description and explicit advisory buckets."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.metrics import Histogram, Meter


def histogram(meter: Meter, name: str, unit: str, description: str, buckets: Sequence[float]) -> Histogram:
    """A histogram whose bucket boundaries are advised by the instrumentation (readers' views may override)."""
    return meter.create_histogram(
        name, unit=unit, description=description, explicit_bucket_boundaries_advisory=list(buckets)
    )
