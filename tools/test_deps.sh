#!/usr/bin/env bash
# Installs, when missing, the Debian tools the test suite runs for real (servers, scanners,
# validators): `deno task test` calls this first, so one command sets up a fresh machine.
# One line per tool: the command the tests look for, then the Debian package that brings it.
set -euo pipefail

deps=(
  "openssl openssl"
  "redis-server redis-server"
  "ip iproute2"
  "docker-compose docker-compose"
  "promtool prometheus"
  "prometheus prometheus"
  "setpriv util-linux"
  "sslscan sslscan"
  "chromium chromium"
)

missing=()
for dep in "${deps[@]}"; do
  read -r command package <<<"$dep"
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done
((${#missing[@]})) || exit 0

echo "installing from Debian: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
"${sudo[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
  ca-certificates "${missing[@]}"
