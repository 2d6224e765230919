"""The stack workload's second GenAI provider: the openai SDK against the OpenAI stand-in, under the distro.

Run as ``opentelemetry-instrument python tests/e2e/stack/provider_workload.py --base-url URL`` with the
stack app's environment: a second process of the same service, so the GenAI dashboard's
per-provider panels (and the CloudWatch provider widgets) have ``openai`` beside the app's
``aws.bedrock``. Until SIGTERM (or ``--max-seconds``), each round makes a chat completion, a
streamed one (usage in the last chunk: tokens and time to first chunk) and an embedding, then
waits ``--interval`` seconds, so Prometheus sees the counters grow between samples. On exit it
prints ``made N calls`` and the distro's exit hook flushes the last metrics.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from typing import Any

import openai

MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"


def one_round(client: openai.OpenAI, index: int) -> int:
    """Three calls: chat, streamed chat, embedding; their number."""
    messages: Any = [{"role": "user", "content": f"which plan suits a team of {index + 2}?"}]
    client.chat.completions.create(model=MODEL, messages=messages, max_tokens=40)
    stream = client.chat.completions.create(
        model=MODEL, messages=messages, max_tokens=40, stream=True, stream_options={"include_usage": True}
    )
    for _ in stream:
        pass
    client.embeddings.create(model=EMBEDDING_MODEL, input=f"team plan {index}")
    return 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the OpenAI stand-in's base URL (http://host:port/v1)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop by itself after this long")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    client = openai.OpenAI(base_url=args.base_url, api_key="testing", max_retries=0)
    deadline = time.monotonic() + args.max_seconds
    calls = rounds = 0
    while not stop.is_set() and time.monotonic() < deadline:
        calls += one_round(client, rounds)
        rounds += 1
        stop.wait(args.interval)
    client.close()
    print(f"made {calls} calls", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
