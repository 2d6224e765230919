"""GenAI calls as spans and metrics, whoever makes them (the botocore wiring today, HTTP clients next).

Provider-neutral: a call's facts come from a row of an operation table
(:mod:`otel_chatbot.genai.operations`); :class:`~.call.GenAICall` records them, ends a
streamed call's span exactly once, and feeds the shared :class:`~.metrics.GenAIMetrics`.
"""
