"""``otel-chatbot health``: is a deployment healthy, degraded or unhealthy, and why."""
