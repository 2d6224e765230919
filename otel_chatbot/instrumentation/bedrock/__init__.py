"""Bedrock Runtime and Agent Runtime: GenAI spans, metrics, cost and streams."""
