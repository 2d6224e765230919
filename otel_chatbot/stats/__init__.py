"""The live view of one process: ``GET /stats`` (JSON) and a live page, from the SDK's own aggregates.

``OTEL_CHATBOT_STATS_PORT`` turns it on. :mod:`~otel_chatbot.stats.reader` is the second
MetricReader (exponential histograms, one snapshot per second into a bounded ring),
:mod:`~otel_chatbot.stats.view` computes windows by differencing snapshots,
:mod:`~otel_chatbot.stats.exponential` the percentiles and their error bound, and
:mod:`~otel_chatbot.stats.endpoint` serves them. ``otel-chatbot top`` and
``otel-chatbot health`` read the same JSON over HTTP.
"""
