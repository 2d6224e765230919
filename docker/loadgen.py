"""Continuous, realistic chat traffic for the compose stack (the ``loadgen`` profile).

    docker compose --profile loadgen up

Rounds of ``otel_chatbot.demo.chatbot.load`` (chat, handbook turns on Bedrock's prompt cache, SSE
streams read to the end and streams the user leaves midway, WebSocket conversations, agents,
history, the /v1 mount, and one request in ten a deliberate failure), users' feedback on a few
answers (mostly thumbs up), a pause between rounds, and every few rounds one Bedrock fault
injected into the local Bedrock server (throttling, model timeouts, slow answers and slow
streams), so every panel of the dashboards -- the error, throttle, timeout and feedback panels
included -- has something to show. Faults go only to
the local server (``--bedrock-url``); with real Bedrock pass ``--bedrock-url ''``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request

from otel_chatbot.demo.chatbot import load

# count 4 = every attempt of the example app's boto3 client (the first + max_attempts 3 retries):
# one call ends throttled (what the throttle panel and alert count); timeouts are not retried.
FAULTS: tuple[dict[str, object], ...] = (
    {"fault": "throttle", "count": 4, "operation": "Converse"},
    {"fault": "timeout", "count": 1, "operation": "Converse"},
    {"fault": "slow", "count": 5, "delay_s": 0.4},
    {"fault": "slow", "count": 3, "delay_s": 0.3, "chunk_delay_s": 0.05, "operation": "ConverseStream"},
)


def inject(bedrock_url: str, fault: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"{bedrock_url.rstrip('/')}/__control/faults",
        data=json.dumps(fault).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        print(f"loadgen: could not inject {fault['fault']}: {exc}", file=sys.stderr, flush=True)


def post(url: str, body: dict[str, object]) -> tuple[int, dict[str, str]]:
    """POST JSON; (status, response headers), 0 when the app cannot be reached."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except (urllib.error.URLError, OSError):
        return 0, {}


def feedback(base_url: str, rng: random.Random, answers: int = 3) -> None:
    """A few users ask a question and score the answer (by its X-Trace-Id): 80 % thumbs up."""
    for _ in range(answers):
        status, headers = post(f"{base_url}/chat/loadgen-feedback", {"message": f"question {rng.randrange(10**6)}?"})
        if status != 200 or "x-trace-id" not in headers:
            continue
        up = rng.random() < 0.8
        body = {"trace_id": headers["x-trace-id"], "score": 1.0 if up else 0.0}
        body["label"] = "thumbs_up" if up else "thumbs_down"
        post(f"{base_url}/feedback", body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loadgen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://app:8000", help="base URL of the chatbot")
    parser.add_argument("--bedrock-url", default="http://bedrock:8081", help="local Bedrock server ('' = none)")
    parser.add_argument("--requests", type=int, default=20, help="requests per round (default 20)")
    parser.add_argument("--sessions", type=int, default=4, help="concurrent conversations (default 4)")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds between rounds (default 5)")
    parser.add_argument("--fault-every", type=int, default=3, help="inject a Bedrock fault every N rounds (0: never)")
    parser.add_argument("--rounds", type=int, default=0, help="stop after N rounds (0: run until stopped)")
    args = parser.parse_args(argv)

    rng = random.Random(42)
    rounds = 0
    while args.rounds == 0 or rounds < args.rounds:
        rounds += 1
        if args.bedrock_url and args.fault_every and rounds % args.fault_every == 0:
            inject(args.bedrock_url, rng.choice(FAULTS))
        # Unexpected outcomes (an injected fault answered 429/502) are expected here: keep going.
        load.main(
            [
                "--url", args.url,
                "--requests", str(args.requests),
                "--sessions", str(args.sessions),
                "--duration", str(max(30.0, args.pause * 6)),
                "--wait", "60",
            ]
        )  # fmt: skip
        feedback(args.url, rng)
        sys.stdout.flush()
        time.sleep(args.pause)
    return 0


if __name__ == "__main__":
    sys.exit(main())
