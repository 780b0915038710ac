# velqbo's container image: a static binary (no cgo) on an empty base, run
# as a non-root user, with the ledger on a volume.
#
#   docker build -t velqbo --build-arg VERSION=$(git describe --tags --always --dirty) .
#   docker run --rm velqbo version
#
# (podman build / podman run take the same arguments.) README "Install" has
# the whole procedure: connect, settings and links come before the daemon.

# GO_IMAGE is any image with Go 1.26 and a shell; the build needs the Go
# module proxy, nothing else.
ARG GO_IMAGE=golang:1.26

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# -buildvcs=false: the build context has no .git (see .dockerignore);
# VERSION stamps the binary instead. -tags timetzdata embeds the time zone
# database, which the empty base lacks (VELQBO_TIMEZONE needs it).
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -tags timetzdata \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/velqbo ./cmd/velqbo \
 && mkdir -p /out/var/lib/velqbo /out/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && echo 'velqbo:x:10001:10001:velqbo:/var/lib/velqbo:/sbin/nologin' > /out/passwd \
 && echo 'velqbo:x:10001:' > /out/group
# `velqbo demo` makes its sandbox in the temporary directory.
RUN mkdir -m 1777 /out/tmp

FROM scratch
COPY --from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build --chown=10001:10001 /out/tmp /tmp
COPY --from=build --chown=10001:10001 /out/var/lib/velqbo /var/lib/velqbo
COPY --from=build /out/velqbo /usr/local/bin/velqbo
COPY docs/runbook.md /usr/local/share/doc/velqbo/runbook.md
USER 10001:10001
WORKDIR /var/lib/velqbo
# The ledger (and its -wal and -shm) lives here: keep the volume, back it up.
VOLUME /var/lib/velqbo
ENV VELQBO_DB=/var/lib/velqbo/velqbo.db \
    VELQBO_LISTEN=0.0.0.0:8089
# /healthz and /metrics. The daemon warns that the listener is not on
# loopback: publish the port on the host's loopback only
# (-p 127.0.0.1:8089:8089) or to a private network.
EXPOSE 8089
# No HEALTHCHECK: the empty base has no curl, and velqbo has no probe
# command; point the orchestrator's HTTP probe at GET /healthz (200 ok or
# degraded, 503 fail).
ENTRYPOINT ["/usr/local/bin/velqbo"]
CMD ["daemon", "--log-format", "json"]
