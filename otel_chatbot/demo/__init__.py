"""``otel-chatbot demo``: the example chatbot instrumented and under load, on embedded defaults.

No Docker, no AWS, no collector: a local Bedrock-compatible server stands in for Bedrock and
all telemetry stays on this machine (see :mod:`otel_chatbot.demo.run`).
"""

from otel_chatbot.demo.run import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
