"""A load-test tool for chatbots built on this distro, driven by Locust.

``python -m bench.loadtest run --host http://127.0.0.1:8000 --scenario mixed --users 10,50,100,200``
ramps up each user level in turn (REST chat, SSE stream, WebSocket chat, or a mix), prints a
progress line every second, and writes one JSON file with per-level, per-endpoint throughput,
error rate and latency percentiles. ``python -m bench.loadtest compare before.json after.json``
prints a markdown report of the deltas with a verdict and exits non-zero on a regression.

Locust generates the load (users, spawn rate, its gevent HTTP client, its request events);
latency percentiles come from HdrHistogram rather than Locust's own response-time dict,
because Locust rounds to two significant digits (1 ms below 100 ms, 10 ms up to 1 s), which
is coarser than the loopback latencies being measured (see ``histogram.py``).

Only ``runner`` and ``users`` import Locust, and importing Locust monkey-patches the process
with gevent; everything else here (schema, percentiles, compare) is plain Python that tests
and other tools can import safely.
"""

SCHEMA = "otel_chatbot.loadtest/1"
"""The ``schema`` value of every result file; bumped on an incompatible change."""
