# edr-preprocessor: one executable, three components (COMPONENTS=submissions,ip-events,tls-scan).
#
#   docker build -t edr-preprocessor --build-arg EDR_VERSION="$(jq -r .version deno.json)" \
#     --build-arg EDR_BUILD_COMMIT="$(git rev-parse HEAD)" .
#
# NOT BUILT on the machines this project is developed on: they have no Docker engine, and
# `deno compile` downloads its `denort` runtime from the internet. tests/app/deploy_compose_test.ts
# checks what can be checked without an engine (every path copied here exists, the stages and
# the HEALTHCHECK command are the ones named below).

# Build stage: compile main.ts and its npm dependencies into one executable that carries the
# start task's permission flags (deno.json "compile" task: tools/compile.ts reads them from the
# start task; see README "Deploy").
FROM denoland/deno:2.9.6 AS build
# `deno task compile` is a `deno run` (tools/compile.ts), which would otherwise ask Deno's release
# server for the latest version in the background (never failing the build; the binary never
# asks; see tools/common/no_update_check.ts).
ENV DENO_NO_UPDATE_CHECK=1
WORKDIR /app
COPY deno.json deno.lock ./
COPY main.ts ./
COPY src ./src
COPY tools/compile.ts ./tools/
COPY tools/common/start_task.ts ./tools/common/
RUN deno install --frozen --entrypoint main.ts
RUN deno task compile

# Run stage: the binary on a slim Debian 12 with openssl (tls-scan's probe runs `openssl
# s_client`), the system's trust anchors (ca-certificates: HTTPS to AWS and SSL Labs) and glibc
# (ip-events' recvmmsg through FFI), as a non-root user with a fixed uid (Kubernetes' runAsUser).
FROM debian:12-slim
ARG EDR_VERSION=unknown
ARG EDR_BUILD_COMMIT=unknown
LABEL org.opencontainers.image.title="edr-preprocessor" \
      org.opencontainers.image.description="EDR submissions SQS→Kinesis pipeline, IP-event collector and TLS scanner in one binary" \
      org.opencontainers.image.version="${EDR_VERSION}" \
      org.opencontainers.image.revision="${EDR_BUILD_COMMIT}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"
RUN apt-get update \
  && apt-get install -y --no-install-recommends openssl ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --system --uid 10001 --home-dir /srv/edr --create-home edr \
  && install -d -o edr -g edr /srv/edr/data
COPY --from=build /app/dist/edr-preprocessor /usr/local/bin/edr-preprocessor
USER 10001:10001
# The binary may write only to data/ (relative to this working directory) and /tmp: the tls-scan
# database (TLS_SCAN_DB, default data/tls-scan.db) lives in /srv/edr/data. Mount a volume there to
# keep it across containers; any path under it (or a symlink in it) is writable.
WORKDIR /srv/edr
VOLUME /srv/edr/data
# EDR_BUILD_COMMIT: `--version` and the edr_build_info metric report it.
ENV HTTP_PORT=8080 EDR_BUILD_COMMIT=${EDR_BUILD_COMMIT}
# 8080: /healthz, /readyz, /metrics and the components' routes (HTTP_PORT).
# 3001/udp: the ip-events component's IP_EVENTS_UDP_PORT, when COMPONENTS enables it.
EXPOSE 8080 3001/udp
# The image has no curl: the binary probes its own /healthz on 127.0.0.1:$HTTP_PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/edr-preprocessor", "healthcheck"]
# SIGTERM stops it gracefully (in-flight messages finish within SHUTDOWN_TIMEOUT_SECONDS, 20 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/edr-preprocessor"]
