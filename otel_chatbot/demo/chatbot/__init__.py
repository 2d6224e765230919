"""The example chatbot the demo runs: a FastAPI service calling Bedrock through boto3.

It takes no telemetry settings (``otel-chatbot demo`` or ``opentelemetry-instrument``
instrument it from the outside); the compose stack serves ``otel_chatbot.demo.chatbot.app:app``
and drives it with :mod:`otel_chatbot.demo.chatbot.load`. Needs the ``demo`` extra.
"""
