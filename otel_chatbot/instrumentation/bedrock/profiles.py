"""Application inference profile ARNs resolved to their base model, off the request path.

Opt-in (``OTEL_CHATBOT_RESOLVE_INFERENCE_PROFILES``: the lookup needs the IAM permission
``bedrock:GetInferenceProfile``). A call naming an unknown profile ARN is recorded with the
ARN as its model, as without this, and queues one lookup; a single daemon thread asks the
control plane (``GetInferenceProfile``) with a botocore client of the calling client's
region, endpoint and credentials, under upstream's ``suppress_instrumentation()`` so the
lookup makes no span and no GenAI metric. Later calls of that ARN are parsed, priced and
counted as calls of the base model (:meth:`~otel_chatbot.instrumentation.genai.call.GenAICall.asked_for`).

What the request path pays: a string test of the model id on every Bedrock call while
this is on (253 ns, against 20 µs to read a Converse request, both measured on a loaded
2-core box), and for a resolved profile ARN a dict read, a copy of the call's parameters and
two dataclass copies (~28 µs there); never I/O, never a wait.

A failed lookup is logged once per (ARN, error) (:class:`~otel_chatbot.guard.BoundedOnce`)
and not tried again for :data:`RETRY_TRANSIENT_S` (throttled, server fault, no connection)
or :data:`RETRY_REFUSED_S` (access denied, not found, anything else). At most
:data:`MAX_PROFILES` ARNs are remembered; the ones past it keep the ARN as their model.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from opentelemetry.instrumentation.utils import suppress_instrumentation

from otel_chatbot.compat import aws_client_credentials
from otel_chatbot.genai.inference_profiles import (
    control_plane_endpoint,
    endpoint_variants,
    is_transient,
    profile_base_model,
)
from otel_chatbot.guard import BoundedOnce
from otel_chatbot.instrumentation.botocore import error_type_of

_log = logging.getLogger("otel_chatbot.bedrock")

MAX_PROFILES = 256
"""ARNs remembered (resolved, failed or waiting); each one costs a dict entry."""
RETRY_TRANSIENT_S = 300.0
"""Wait before asking again after a throttle, a server fault or no connection."""
RETRY_REFUSED_S = 3600.0
"""Wait before asking again after anything else (access denied, not found, no single model)."""
LOOKUP_TIMEOUT_S = 10.0
"""Connect and read timeout of one lookup; botocore does not retry it."""
FAILURES_LOGGED = 10
"""(ARN, error) pairs logged before the log falls silent."""

_UNKNOWN = object()


@dataclass(frozen=True)
class ProfileLookup:
    """What the worker needs to ask about one ARN, taken from the runtime client that named it."""

    arn: str
    region: str | None
    endpoint_url: str | None
    credentials: Any  # botocore's Credentials (aiobotocore's AioCredentials), or None: the default chain
    client_config: Mapping[str, Any]


Fetch = Callable[[ProfileLookup], Mapping[str, Any]]

# Settings of the runtime client's botocore Config that the control-plane client keeps.
_CONFIG_KEPT = ("proxies", "proxies_config")


def lookup_for(arn: str, client: Any) -> ProfileLookup:
    """The lookup of ``arn`` as ``client`` (a botocore or aiobotocore ``bedrock-runtime`` client) would make it."""
    meta = client.meta
    config = meta.config
    kept = {name: getattr(config, name) for name in _CONFIG_KEPT if getattr(config, name, None) is not None}
    return ProfileLookup(arn, meta.region_name, meta.endpoint_url, aws_client_credentials(client), kept)


def fetch_profile(lookup: ProfileLookup) -> Mapping[str, Any]:
    """``GetInferenceProfile`` for ``lookup.arn`` with a fresh control-plane client (one attempt, bounded time)."""
    client = control_plane_client(lookup)
    try:
        answer: Mapping[str, Any] = client.get_inference_profile(inferenceProfileIdentifier=lookup.arn)
        return answer
    finally:
        client.close()


def control_plane_client(lookup: ProfileLookup) -> Any:
    """A botocore ``bedrock`` client of the lookup's region, endpoint (or its FIPS/dual-stack twin) and credentials.

    Credentials are frozen here, in the worker: refreshable ones (a role's) are current,
    and aiobotocore's, whose freezing is a coroutine, are frozen on a loop of this thread.
    """
    from botocore.config import Config

    keys: dict[str, Any] = {}
    if lookup.credentials is not None:
        frozen = lookup.credentials.get_frozen_credentials()
        if inspect.isawaitable(frozen):
            frozen = asyncio.run(_awaited(frozen))
        keys = {
            "aws_access_key_id": frozen.access_key,
            "aws_secret_access_key": frozen.secret_key,
            "aws_session_token": frozen.token,
        }
    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=LOOKUP_TIMEOUT_S,
        read_timeout=LOOKUP_TIMEOUT_S,
        **endpoint_variants(lookup.endpoint_url),
        **lookup.client_config,
    )
    return _botocore_session().create_client(
        "bedrock",
        region_name=lookup.region,
        endpoint_url=control_plane_endpoint(lookup.endpoint_url),
        config=config,
        **keys,
    )


@cache
def _botocore_session() -> Any:
    """One botocore session for every lookup: it caches the service model (a client costs ~150 ms without)."""
    import botocore.session

    return botocore.session.get_session()


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


class InferenceProfiles:
    """Each application inference profile ARN's base model, as far as the control plane said.

    :meth:`model_behind` is the request path's question; the answers come from one worker
    thread, started on the first lookup (and again in a forked child, whose copy has no
    thread). ``fetch`` and ``clock`` are for tests.
    """

    def __init__(
        self,
        fetch: Fetch | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_profiles: int = MAX_PROFILES,
    ) -> None:
        self._fetch = fetch if fetch is not None else fetch_profile
        self._clock = clock
        self._max_profiles = max_profiles
        # ARN -> base model (str), retry-at time after a failure (float), or None while a lookup waits.
        self._known: dict[str, str | float | None] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._waiting = 0
        self._queue: queue.SimpleQueue[ProfileLookup | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._failures = BoundedOnce(_log, "failed inference profile lookups", limit=FAILURES_LOGGED)
        self._too_many = BoundedOnce(_log, "notes on the inference profile limit", limit=1)

    def model_behind(self, arn: str, client: Any) -> str | None:
        """``arn``'s base model if known; else None, and a lookup is queued unless one is waiting or failed lately."""
        known = self._known.get(arn, _UNKNOWN)
        if type(known) is str:
            return known
        if known is None or (isinstance(known, float) and self._clock() < known):
            return None
        self._queue_lookup(arn, client)
        return None

    def _queue_lookup(self, arn: str, client: Any) -> None:
        with self._lock:
            known = self._known.get(arn, _UNKNOWN)
            if self._closed or known is None or type(known) is str:
                return
            if known is _UNKNOWN and len(self._known) >= self._max_profiles:
                self._too_many.warning(
                    "limit",
                    "otel_chatbot: more than %d application inference profiles; calls of the others keep the "
                    "ARN as their model",
                    self._max_profiles,
                )
                return
            lookup = lookup_for(arn, client)
            self._known[arn] = None
            self._waiting += 1
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="otel-chatbot-inference-profiles", daemon=True)
                self._worker.start()
        self._queue.put(lookup)

    def _work(self) -> None:
        while True:
            lookup = self._queue.get()
            if lookup is None:
                return
            outcome = self._resolve(lookup)
            with self._lock:
                self._known[lookup.arn] = outcome
                self._waiting -= 1
                self._idle.notify_all()

    def _resolve(self, lookup: ProfileLookup) -> str | float:
        """The base model, or the time to ask again (the failure logged once)."""
        try:
            with suppress_instrumentation():  # an AWS call of ours: no span, no GenAI metric
                answer = self._fetch(lookup)
            model = profile_base_model(answer)
        except Exception as exc:
            error_type = error_type_of(exc)
            wait = RETRY_TRANSIENT_S if is_transient(error_type) else RETRY_REFUSED_S
            self._failures.warning(
                (lookup.arn, error_type),
                "otel_chatbot: cannot resolve application inference profile %s (%s: %s); its calls keep the ARN "
                "as their model and get no cost unless OTEL_CHATBOT_PRICING_FILE aliases it. The lookup needs "
                "bedrock:GetInferenceProfile; asked again in %d min (OTEL_CHATBOT_RESOLVE_INFERENCE_PROFILES=false "
                "turns lookups off).",
                lookup.arn,
                error_type,
                exc,
                wait // 60,
            )
            return self._clock() + wait
        if model is None:
            self._failures.warning(
                (lookup.arn, "no single model"),
                "otel_chatbot: application inference profile %s names no single base model; its calls keep the "
                "ARN as their model",
                lookup.arn,
            )
            return self._clock() + RETRY_REFUSED_S
        _log.debug("otel_chatbot: application inference profile %s is %s", lookup.arn, model)
        return model

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no lookup is waiting (tests); False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._waiting == 0, timeout)

    def close(self) -> None:
        """Stop the worker after the lookup in hand (it is a daemon: exiting never waits for it)."""
        with self._lock:
            self._closed = True
            worker = self._worker
        if worker is not None and worker.is_alive():
            self._queue.put(None)
