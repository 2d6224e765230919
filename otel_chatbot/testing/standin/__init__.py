"""What the provider stand-ins share: server, control API, faults, ledger and the deterministic model.

Each stand-in (:mod:`~otel_chatbot.testing.bedrock`, :mod:`~otel_chatbot.testing.openai`,
:mod:`~otel_chatbot.testing.anthropic`, :mod:`~otel_chatbot.testing.ollama`) adds its routes,
wire formats and fault table to these parts:

* :mod:`.http` -- the threaded HTTP/1.1 server, the ``/__control/`` API and the stream writer;
* :mod:`.faults` -- fault tables and the queue that hands a fault to the next matching request;
* :mod:`.ledger` -- the totals of what clients were told, per model and operation;
* :mod:`.generation`, :mod:`.tools`, :mod:`.cache` -- the deterministic "model": replies,
  token counts, tool calls and prompt caching as pure functions of the request;
* :mod:`.cli` -- ``python -m otel_chatbot.testing.<provider> --port 0``.
"""
