"""Which instrumentation one configuration applies, when, and how it is undone.

Each library is instrumented when the app imports it (wrapt post-import hooks), so the
distro adds no long-lived objects for libraries the app does not use.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import wrapt

from otel_chatbot.config import ConfigError, Settings
from otel_chatbot.guard import guarded
from otel_chatbot.pipelines import Pipelines

if TYPE_CHECKING:
    from otel_chatbot.instrumentation.genai.call import GenAITelemetry


def _attr(module: str, name: str) -> Any:
    return getattr(sys.modules[module], name)


def load_price_table(settings: Settings) -> Any:
    """The GenAI price table; a bad user file is a start-up error naming the setting."""
    from otel_chatbot.genai import PriceTable

    if not settings.pricing_file:
        return PriceTable.default()
    try:
        return PriceTable.from_file(settings.pricing_file)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"OTEL_CHATBOT_PRICING_FILE: {exc}") from None


class Instrumentations:
    """The patches one configuration applied, so shutdown can revert them."""

    def __init__(self, settings: Settings, pipelines: Pipelines, on_shutdown: Callable[[], object]) -> None:
        from otel_chatbot.instrumentation.asgi import ServerTelemetry
        from otel_chatbot.instrumentation.genai.answers import AnswerMemory
        from otel_chatbot.instrumentation.genai.metrics import model_budget

        self.settings = settings
        self.pipelines = pipelines
        self.server = ServerTelemetry(
            settings, pipelines.tracer_provider, pipelines.meter_provider, pipelines.propagator, on_shutdown
        )
        self.apps: list[Any] = []
        self.reverts: list[Any] = []
        self.log_handler: logging.Handler | None = None
        self.diagnostics: logging.Handler | None = None
        self.patched_all_apps = False
        self.active = True
        self._aws_patch: Any = None
        self._class_patch: Any = None
        self._genai_http: Any = None
        self.inference_profiles: Any = None  # InferenceProfiles, built with the AWS patch when opted in
        self._prices: Any = load_price_table(settings) if settings.pricing_file else None
        self.answers = AnswerMemory()
        self.models = model_budget(settings.max_models)
        """The one budget of model ids for every GenAI metric of this configuration."""

    def apply_libraries(self, patch_all_apps: bool) -> None:
        """Instrument each library when the app imports it, not before.

        Importing botocore, aiobotocore, aiohttp or httpx ourselves would add ~50,000
        long-lived objects to an app that may not use them, and every full garbage
        collection of the app would have to walk them (tens of ms of pause, measured).
        """
        p = self.pipelines
        self.patched_all_apps = patch_all_apps
        if patch_all_apps and self.settings.instrumentation_enabled("fastapi"):
            # Each hook runs when its module is fully loaded: fastapi imports starlette first.
            self._when_imported(
                "starlette.applications",
                lambda: self._app_classes().apply(_attr("starlette.applications", "Starlette")),
            )
            self._when_imported(
                "fastapi.applications", lambda: self._app_classes().apply(_attr("fastapi.applications", "FastAPI"))
            )
        if self.settings.instrumentation_enabled("httpx"):
            self._when_imported("httpx", self._apply_httpx)
        if self.settings.instrumentation_enabled("httpx2"):
            self._when_imported("httpx2", self._apply_httpx2)
            if self._http_genai() is not None:
                self._when_imported("anthropic", self._apply_anthropic)
        if self.settings.instrumentation_enabled("aiohttp-client"):
            self._when_imported("aiohttp", self._apply_aiohttp)
        if self.settings.instrumentation_enabled("botocore"):
            self._when_imported("botocore.client", self._apply_botocore)
            self._when_imported("aiobotocore.client", self._apply_aiobotocore)
        self.diagnostics = _diagnostics_handler()
        with guarded("process metrics"):
            self._start_process_metrics()
        if self.settings.instrumentation_enabled("logging"):
            from otel_chatbot.logs import OtlpLogHandler

            self.log_handler = OtlpLogHandler(p.logger_provider, logging.getLevelName(self.settings.log_level.upper()))
            logging.getLogger().addHandler(self.log_handler)

    def _start_process_metrics(self) -> None:
        from otel_chatbot.instrumentation.process_metrics import start_process_metrics

        undo = start_process_metrics(self.settings.process_metrics, self.pipelines.meter_provider)
        if undo is not None:
            self.reverts.append(undo)

    def _when_imported(self, module: str, apply: Callable[[], None]) -> None:
        """Run ``apply`` now if ``module`` is loaded, else right after the app imports it."""

        def run(_module: object = None) -> None:
            if self.active:
                with guarded(f"instrumenting {module}"):
                    apply()

        if module in sys.modules:
            run()
        elif importlib.util.find_spec(module.partition(".")[0]) is not None:
            wrapt.register_post_import_hook(run, module)

    def _app_classes(self) -> Any:
        """One class patch for Starlette and FastAPI, reverted at shutdown."""
        if self._class_patch is None:
            from otel_chatbot.instrumentation.fastapi import ClassPatch

            self._class_patch = ClassPatch(self.server)
            self.reverts.append(self._class_patch.revert)
        return self._class_patch

    def _client_telemetry(self, name: str) -> Any:
        from otel_chatbot.instrumentation.http_client import ClientTelemetry

        p = self.pipelines
        return ClientTelemetry(name, p.tracer_provider, p.meter_provider, p.propagator, self._http_genai())

    def _http_genai(self) -> Any:
        """GenAI recognition for every HTTP client (one instance: its metrics, its log-once state); None when off."""
        if self._genai_http is None and self.settings.instrumentation_enabled("genai-http"):
            from otel_chatbot.genai.endpoints import Endpoints
            from otel_chatbot.instrumentation.genai.http import HttpGenAI

            self._genai_http = HttpGenAI(self._genai("otel_chatbot.genai"), Endpoints(self.settings.genai_endpoints))
        return self._genai_http

    def _apply_httpx(self) -> None:
        self._apply_httpx_module("httpx")

    def _apply_httpx2(self) -> None:
        self._apply_httpx_module("httpx2")

    def _apply_httpx_module(self, name: str) -> None:
        from otel_chatbot.instrumentation.httpx_client import HttpxInstrumentation

        patch = HttpxInstrumentation(self._client_telemetry(name), name)
        patch.apply()
        self.reverts.append(patch.revert)

    def _apply_anthropic(self) -> None:
        """The anthropic SDK's own spans off: its calls are GenAI spans already, made by the httpx2 patch."""
        from otel_chatbot.instrumentation.anthropic_sdk import AnthropicSpansOff

        patch = AnthropicSpansOff()
        patch.apply()
        self.reverts.append(patch.revert)

    def _apply_aiohttp(self) -> None:
        from otel_chatbot.instrumentation.aiohttp_client import AiohttpInstrumentation

        patch = AiohttpInstrumentation(self._client_telemetry("aiohttp"))
        patch.apply()
        self.reverts.append(patch.revert)

    def _aws(self) -> Any:
        """The AWS SDK instrumentation, built once for botocore and aiobotocore."""
        if self._aws_patch is None:
            from otel_chatbot.genai.bedrock_operations import BEDROCK_OPERATIONS
            from otel_chatbot.instrumentation.bedrock.extension import BedrockExtension
            from otel_chatbot.instrumentation.botocore import (
                BotocoreInstrumentation,
                BotocoreTelemetry,
                ServiceExtension,
            )

            if self.settings.resolve_inference_profiles:
                from otel_chatbot.instrumentation.bedrock.profiles import InferenceProfiles

                self.inference_profiles = InferenceProfiles()
                self.reverts.append(self.inference_profiles.close)
            bedrock = BedrockExtension(self._genai("otel_chatbot.bedrock"), BEDROCK_OPERATIONS, self.inference_profiles)
            services: dict[str, ServiceExtension] = {"bedrock-runtime": bedrock, "bedrock-agent-runtime": bedrock}
            self._aws_patch = BotocoreInstrumentation(BotocoreTelemetry(self.pipelines.tracer_provider, services))
            self.reverts.append(self._aws_patch.revert)
        return self._aws_patch

    def _genai(self, scope: str) -> GenAITelemetry:
        """GenAI telemetry under instrumentation scope ``scope``: its tracer, metrics, price table, capture."""
        from otel_chatbot.instrumentation.genai.call import GenAITelemetry
        from otel_chatbot.instrumentation.genai.capture import ContentCapture
        from otel_chatbot.instrumentation.genai.metrics import GenAIMetrics
        from otel_chatbot.version import __version__

        s, p = self.settings, self.pipelines
        return GenAITelemetry(
            p.tracer_provider.get_tracer(scope, __version__),
            GenAIMetrics(p.meter_provider.get_meter(scope, __version__), self.prices(), self.models),
            ContentCapture(s.capture_message_content, s.content_max_bytes, s.redact_patterns),
            self.answers,
        )

    def prices(self) -> Any:
        """Loaded at start-up when the user names a file (so a bad one fails early), else on first use."""
        if self._prices is None:
            self._prices = load_price_table(self.settings)
        return self._prices

    def _apply_botocore(self) -> None:
        self._aws().apply_sync()

    def _apply_aiobotocore(self) -> None:
        self._aws().apply_async()

    def instrument_app(self, app: Any) -> None:
        from otel_chatbot.instrumentation.fastapi import instrument_app

        if self.settings.instrumentation_enabled("fastapi") and instrument_app(app, self.server):
            self.apps.append(app)

    def revert(self) -> None:
        from otel_chatbot.instrumentation.fastapi import uninstrument_app

        for app in self.apps:
            uninstrument_app(app)
        self.server.lifecycle.close()
        self.active = False
        for revert in reversed(self.reverts):
            revert()
        if self.log_handler is not None:
            logging.getLogger().removeHandler(self.log_handler)
        if self.diagnostics is not None:
            logging.getLogger("otel_chatbot").removeHandler(self.diagnostics)
            self.diagnostics = None
        self.apps, self.reverts, self.log_handler = [], [], None


def _diagnostics_handler() -> logging.Handler | None:
    """Make the distro's own warnings (outage, unknown model, internal error) visible.

    Our OTLP log handler on the root logger would otherwise silence Python's last-resort
    stderr output, and it skips our own records so an export failure cannot feed on
    itself. When the app has set up no logging of its own, print ours to stderr.
    """
    ours = logging.getLogger("otel_chatbot")
    if ours.handlers or logging.getLogger().handlers:
        return None
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    ours.addHandler(handler)
    return handler
