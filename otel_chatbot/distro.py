"""Entry points for ``opentelemetry-instrument``.

``opentelemetry-instrument`` picks the *first* ``opentelemetry_distro`` and the first
``opentelemetry_configurator`` it finds; with ``opentelemetry-distro`` installed beside
us, which is first depends on the order of the site-packages listing. So both of our
entry points do the same complete, idempotent setup: whichever of ours runs first
configures the SDK, and the other finds it done. If another package's configurator ran
first, ours still installs its instrumentation with its own providers and says so.
``OTEL_PYTHON_DISTRO=otel_chatbot`` / ``OTEL_PYTHON_CONFIGURATOR=otel_chatbot`` pin the
choice explicitly. Another distro also loads every installed instrumentor, including
upstream ones for what we instrument ourselves (botocore: two CLIENT spans per call);
our ``opentelemetry_post_instrument`` hook undoes those.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

_log = logging.getLogger("otel_chatbot")

# Instrumentors of other packages that duplicate ours; the distro skips them.
_REPLACED = frozenset(
    {
        "asgi",
        "fastapi",
        "starlette",
        "httpx",
        "aiohttp-client",
        "aiohttp_client",
        "botocore",
        "aiobotocore",
        "boto3sqs",
        "logging",
        # GenAI SDKs: their calls are GenAI spans of our HTTP client instrumentation (genai-http)
        # already: upstream's openai-v2 and OpenLLMetry's anthropic would add a second span per call.
        "openai",
        "anthropic",
    }
)
_GENAI_SDKS = frozenset({"openai", "anthropic"})


def _replaced() -> frozenset[str]:
    """The upstream instrumentors ours replace under the active configuration.

    With ``genai-http`` turned off our HTTP spans do not read GenAI calls, so an upstream
    GenAI instrumentor is the only one left for them and stays.
    """
    from otel_chatbot.telemetry import active

    telemetry = active()
    if telemetry is not None and not telemetry.settings.instrumentation_enabled("genai-http"):
        return _REPLACED - _GENAI_SDKS
    return _REPLACED


# Loaded by otel_chatbot itself with the settings table's choice (process metrics); not
# undone under another distro: its singleton already refuses a second instrumentation.
_STARTED_BY_US = _REPLACED | {"system_metrics"}


def _configure_from_entry_point() -> None:
    """Set up once; a bad setting stops the process at start-up, naming the variable.

    ``opentelemetry-instrument`` logs and swallows exceptions from distros, which would
    leave the service running silently without telemetry; SystemExit is not swallowed.
    """
    from otel_chatbot.config import ConfigError
    from otel_chatbot.telemetry import configure

    try:
        configure(patch_all_apps=True)
    except ConfigError as exc:
        raise SystemExit(f"otel_chatbot: invalid configuration: {exc}") from None


class ChatbotDistro(BaseDistro):  # type: ignore[misc]
    """Configures the SDK and keeps upstream instrumentors off what we instrument."""

    def _configure(self, **kwargs: Any) -> None:
        _configure_from_entry_point()

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        if entry_point.name in _STARTED_BY_US:
            _log.debug("otel_chatbot instruments %s itself; skipping the upstream instrumentor", entry_point.name)
            return
        super().load_instrumentor(entry_point, **kwargs)


def ensure_configured() -> None:
    """``opentelemetry_pre_instrument`` hook: runs whatever distro and configurator won.

    That group is loaded in full, after the configurators, so when another package's
    distro and configurator came first ours still sets up its own pipelines and
    instrumentation (the global providers, already taken, stay theirs) and says so.
    """
    from opentelemetry import trace

    from otel_chatbot.telemetry import active, configure

    if active() is not None:
        return
    taken = not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    if taken:
        _log.warning(
            "otel_chatbot: another OpenTelemetry distro configured the SDK first; otel_chatbot instruments with its "
            "own pipelines. Set OTEL_PYTHON_DISTRO=otel_chatbot and OTEL_PYTHON_CONFIGURATOR=otel_chatbot to use "
            "only ours."
        )
    configure(patch_all_apps=True, set_global_providers=not taken)


def retire_upstream_duplicates() -> None:
    """``opentelemetry_post_instrument`` hook: one instrumentation per library, ours.

    Runs after every instrumentor was loaded. Under our distro the duplicates were never
    loaded (``ChatbotDistro.load_instrumentor``); under another distro they were, next to
    ours, and are undone here while the app has not been imported yet.
    """
    from otel_chatbot.telemetry import active

    telemetry = active()
    if telemetry is None or not telemetry.enabled:
        return
    retired = retire_instrumentors(entry_points(group="opentelemetry_instrumentor"))
    if retired:
        _log.warning(
            "otel_chatbot: undid upstream instrumentation of %s, which otel_chatbot instruments itself "
            "(another distro had loaded it)",
            ", ".join(retired),
        )


def retire_instrumentors(candidates: Iterable[EntryPoint]) -> list[str]:
    """Uninstrument the already loaded, active upstream instrumentors among ``candidates`` that duplicate ours."""
    from otel_chatbot.guard import report

    retired = []
    replaced = _replaced()
    for entry_point in candidates:
        if entry_point.name not in replaced:
            continue
        module = sys.modules.get(entry_point.module)
        instrumentor_class = getattr(module, entry_point.attr, None) if module is not None else None
        if instrumentor_class is None:
            continue  # never imported, so never loaded
        try:
            # Instrumentors are singletons (BaseInstrumentor.__new__): called with no arguments, as
            # opentelemetry-instrument loads them, the class returns the instance that instrumented.
            instance = instrumentor_class()
            if not getattr(instance, "is_instrumented_by_opentelemetry", False):
                continue
            instance.uninstrument()
        except Exception as exc:
            report(f"undoing the upstream {entry_point.name} instrumentor", exc)
            continue
        retired.append(entry_point.name)
    return retired


class ChatbotConfigurator:
    """Does the same setup when another distro was picked first.

    ``opentelemetry-instrument`` calls ``entry_point.load()().configure(...)``: that is the
    whole contract, so no SDK base class (its ``_BaseConfigurator`` is private).
    """

    def configure(self, **kwargs: Any) -> None:
        _configure_from_entry_point()
