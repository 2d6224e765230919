"""The count of chat requests a benchmark app served, written out at lifespan shutdown.

The benchmark compares it with the telemetry the receiver got, so dropped data can never
look like speed. One counter per app process; ``BENCH_SERVED_FILE`` names the file.
"""

from __future__ import annotations

import os


class Served:
    def __init__(self) -> None:
        self.count = 0

    def write(self) -> None:
        path = os.environ.get("BENCH_SERVED_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as f:
                f.write(str(self.count))
