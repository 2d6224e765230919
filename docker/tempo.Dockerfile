# syntax=docker/dockerfile:1
# Grafana Tempo plus a static busybox for the compose healthcheck: the upstream image is
# distroless (no shell, no wget), so `wget /ready` needs a binary of its own.  Also
# creates /var/tempo owned by Tempo's user, so the named volume mounted there is writable.
FROM busybox:1.37.0-musl AS tools
RUN mkdir -p /out/var/tempo

FROM grafana/tempo:2.8.2
COPY --from=tools /bin/busybox /usr/local/bin/busybox
COPY --from=tools --chown=10001:10001 /out/var/tempo /var/tempo
