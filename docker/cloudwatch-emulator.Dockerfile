# syntax=docker/dockerfile:1
# A local CloudWatch Logs endpoint (moto server) for the default stack: otelcol-chatbot's
# awsemf exporter writes its EMF log events here unless the `cloudwatch` setup points it
# at real AWS (docs/stack.md), so the CloudWatch spool drains instead of growing.
# Build context: the repository root.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements/constraints.txt /tmp/constraints.txt
RUN pip install -c /tmp/constraints.txt 'moto[server]' \
    && groupadd --system --gid 10001 moto \
    && useradd --system --uid 10001 --gid 10001 --no-create-home moto
USER 10001:10001
EXPOSE 5000
CMD ["moto_server", "-H", "0.0.0.0", "-p", "5000"]
