# syntax=docker/dockerfile:1
# otelcol-chatbot, built from collector/manifest.yaml by the OpenTelemetry Collector
# Builder in a Go stage -- through scripts/build_collector.sh, the same recipe (flags,
# builder version taken from the manifest) as local builds and the tests.
# Build context: the repository root.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY collector/manifest.yaml collector/manifest.yaml
COPY scripts/build_collector.sh scripts/go_env.sh scripts/
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    OTEL_CHATBOT_CACHE=/tmp/ocb-cache bash scripts/build_collector.sh >/tmp/binary-path \
    && cp "$(tail -n 1 /tmp/binary-path)" /otelcol-chatbot \
    && /otelcol-chatbot --version

FROM alpine:3.22.2
# wget (busybox) is what the compose healthcheck calls; file_storage keeps the persistent
# sending queues in /var/lib/otelcol-chatbot (a named volume in docker-compose.yml).
RUN addgroup -S -g 10001 otelcol \
    && adduser -S -D -H -u 10001 -G otelcol otelcol \
    && mkdir -p /var/lib/otelcol-chatbot \
    && chown otelcol:otelcol /var/lib/otelcol-chatbot
COPY --from=build /otelcol-chatbot /usr/local/bin/otelcol-chatbot
COPY collector/config.yaml collector/agent.yaml collector/agent-mirror.yaml collector/gateway.yaml collector/auth.yaml collector/tls.yaml /etc/otelcol-chatbot/
# Go runtime defaults of the distribution (override with -e / compose `environment:`).  GOGC=200:
# the collector's live heap is mostly the traces tail_sampling holds for decision_wait, and
# GOGC=100 marks it every time the heap doubles -- GC was ~17 % of the CPU per span; 200 took
# 29 -> 21-25 us of collector CPU per span (bench/README.md, "Collector throughput"), for a
# higher heap peak that memory_limiter (a forced GC above its soft limit) and GOMEMLIMIT bound.
# bench/collector/stack.py runs the binary with these same ENV lines.
ENV GOGC=200
USER 10001:10001
EXPOSE 4317 4318 13133 8888
ENTRYPOINT ["/usr/local/bin/otelcol-chatbot"]
CMD ["--config", "/etc/otelcol-chatbot/config.yaml"]
