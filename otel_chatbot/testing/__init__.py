"""A testing kit: stand-ins for what an instrumented chatbot talks to, on loopback.

Test your own instrumented app against real protocols without AWS or a collector:

* :mod:`otel_chatbot.testing.bedrock` -- :class:`~otel_chatbot.testing.bedrock.BedrockServer`,
  a Bedrock-compatible server (``bedrock-runtime`` and ``bedrock-agent-runtime``, JSON and
  event streams) for unmodified boto3 / aiobotocore clients, with deterministic answers, a
  ledger of the tokens it reported and faults injected on cue
  (``python -m otel_chatbot.testing.bedrock`` runs it as a process);
* :mod:`otel_chatbot.testing.otlp_sink` -- :class:`~otel_chatbot.testing.otlp_sink.OtlpSink`,
  an OTLP receiver (HTTP protobuf/JSON and gRPC) that decodes what it gets into flat, typed
  records (``SpanRecord``, ``MetricPoint``, ``LogEntry``) and waits for them
  (``python -m otel_chatbot.testing.otlp_sink`` runs it as a process);
* :mod:`otel_chatbot.testing.pytest_plugin` -- fixtures ``bedrock_server``, ``otlp_sink`` and
  ``configure_telemetry`` (``configure()`` exporting to that sink, shut down after the test),
  opt-in with ``pytest_plugins = ["otel_chatbot.testing.pytest_plugin"]`` in a root conftest;
* :func:`otel_chatbot.testing.settings.sink_settings` -- the ``configure()`` keywords behind
  ``configure_telemetry``, for other test runners;
* :mod:`otel_chatbot.testing.process` -- ``bedrock_process()`` and ``otlp_sink_process()``: the
  same servers in a child process, for when they must not share the interpreter under test.

The README's "Testing your instrumented app" shows a whole test.

One subpackage per provider stand-in (``bedrock`` today), so others sit beside it. Both
servers bind 127.0.0.1 and a free port unless told otherwise, start in-process in
milliseconds, and use only the standard library plus what the distro already depends on.
Importing this package imports none of them.
"""
