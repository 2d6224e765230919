# syntax=docker/dockerfile:1
# The local Bedrock-compatible server (standard library only), so the stack runs
# without AWS.  Point the app at real Bedrock instead by unsetting BEDROCK_ENDPOINT_URL
# (see docs/stack.md).  Build context: the repository root.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY examples/__init__.py examples/__init__.py
COPY examples/bedrock_server examples/bedrock_server
RUN groupadd --system --gid 10001 bedrock \
    && useradd --system --uid 10001 --gid 10001 --no-create-home bedrock
USER 10001:10001
EXPOSE 8081
CMD ["python", "-m", "examples.bedrock_server", "--host", "0.0.0.0", "--port", "8081"]
