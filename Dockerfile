# Build stage: compile main.ts and its dependencies into one executable.
# (deno compile downloads its `denort` runtime, which needs internet access: it works here in a
# normal Docker build, not on our offline development machines.)
FROM denoland/deno:2.9.6 AS build
# Deno would otherwise ask its update server at every start.
ENV DENO_NO_UPDATE_CHECK=1
WORKDIR /app
COPY deno.json deno.lock ./
COPY main.ts ./
COPY src ./src
RUN deno install --frozen --entrypoint main.ts
RUN deno task compile

# Run stage: the binary on a slim Debian 12 with openssl (the tls-scan probe runs
# `openssl s_client`) and the system's trust anchors (ca-certificates), as a non-root user.
# (distroless has no openssl.) Not built on our machines: they have no Docker engine.
FROM debian:12-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends openssl ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --system --uid 10001 --home-dir /srv/edr --create-home edr \
  && install -d -o edr -g edr /srv/edr/data
COPY --from=build /app/dist/edr-preprocessor /usr/local/bin/edr-preprocessor
USER edr:edr
# The tls-scan database (TLS_SCAN_DB, default data/tls-scan.db) lives in /srv/edr/data: mount a
# volume there to keep it across containers.
WORKDIR /srv/edr
VOLUME /srv/edr/data
ENV HTTP_PORT=8080 DENO_NO_UPDATE_CHECK=1
# 3001/udp: the ip-events component's IP_EVENTS_UDP_PORT, when COMPONENTS enables it.
EXPOSE 8080 3001/udp
ENTRYPOINT ["/usr/local/bin/edr-preprocessor"]
