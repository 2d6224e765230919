"""A testing kit: stand-ins for what an instrumented chatbot talks to, on loopback.

Test your own instrumented app against real protocols without AWS or a collector:

* :mod:`otel_chatbot.testing.bedrock` -- :class:`~otel_chatbot.testing.bedrock.BedrockServer`,
  a Bedrock-compatible server (``bedrock-runtime`` and ``bedrock-agent-runtime``, JSON and
  event streams) for unmodified boto3 / aiobotocore clients, with deterministic answers, a
  ledger of the tokens it reported and faults injected on cue
  (``python -m otel_chatbot.testing.bedrock`` runs it as a process);
* :mod:`otel_chatbot.testing.openai` -- :class:`~otel_chatbot.testing.openai.OpenAIServer`, an
  OpenAI-compatible API (Chat Completions, Responses, Embeddings; SSE streams) that is also an
  Azure OpenAI resource, for the ``openai`` SDK and plain HTTP clients;
* :mod:`otel_chatbot.testing.anthropic` -- :class:`~otel_chatbot.testing.anthropic.AnthropicServer`,
  Anthropic's Messages API (JSON and SSE, tool use, prompt caching) for the ``anthropic`` SDK;
* :mod:`otel_chatbot.testing.ollama` -- :class:`~otel_chatbot.testing.ollama.OllamaServer`, Ollama's
  native API (NDJSON streams) and its OpenAI-compatible ``/v1/``;
* :mod:`otel_chatbot.testing.otlp_sink` -- :class:`~otel_chatbot.testing.otlp_sink.OtlpSink`,
  an OTLP receiver (HTTP protobuf/JSON and gRPC) that decodes what it gets into flat, typed
  records (``SpanRecord``, ``MetricPoint``, ``LogEntry``) and waits for them
  (``python -m otel_chatbot.testing.otlp_sink`` runs it as a process);
* :mod:`otel_chatbot.testing.pytest_plugin` -- fixtures ``bedrock_server``, ``openai_server``,
  ``anthropic_server``, ``ollama_server``, ``otlp_sink`` and ``configure_telemetry``
  (``configure()`` exporting to that sink, shut down after the test), opt-in with
  ``pytest_plugins = ["otel_chatbot.testing.pytest_plugin"]`` in a root conftest;
* :func:`otel_chatbot.testing.settings.sink_settings` -- the ``configure()`` keywords behind
  ``configure_telemetry``, for other test runners;
* :mod:`otel_chatbot.testing.process` -- ``bedrock_process()``, ``openai_process()``,
  ``anthropic_process()``, ``ollama_process()`` and ``otlp_sink_process()``: the same servers in a
  child process, for when they must not share the interpreter under test.

The README's "Testing your instrumented app" shows a whole test.

One subpackage per provider stand-in; what they share (server, control API, fault queue,
ledger, the deterministic model) is :mod:`otel_chatbot.testing.standin`. Every server binds
127.0.0.1 and a free port unless told otherwise, starts in-process in milliseconds, and uses
only the standard library plus what the distro already depends on. Importing this package
imports none of them.
"""
