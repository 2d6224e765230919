# syntax=docker/dockerfile:1
# The example chatbot, instrumented from the outside by the otel_chatbot distro:
#   opentelemetry-instrument uvicorn otel_chatbot.demo.chatbot.app:app
# Also the image of the `loadgen` service (docker/loadgen.py) and of the `bedrock` service
# (python -m otel_chatbot.testing.bedrock, the local Bedrock stand-in).
# Build context: the repository root (docker-compose.yml).
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/constraints.txt requirements/constraints.txt
COPY otel_chatbot otel_chatbot
# The distro (with its process metrics) and the demo extra (FastAPI, uvicorn, httpx, boto3,
# websockets), pinned by the project's constraints.
RUN pip install -c requirements/constraints.txt '.[demo]' \
    && groupadd --system --gid 10001 chatbot \
    && useradd --system --uid 10001 --gid 10001 --no-create-home chatbot

USER 10001:10001
EXPOSE 8000
CMD ["opentelemetry-instrument", "uvicorn", "otel_chatbot.demo.chatbot.app:app", "--host", "0.0.0.0", "--port", "8000"]
