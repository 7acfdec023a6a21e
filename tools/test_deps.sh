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
  "postgres postgresql"
)

missing=()
# Debian keeps PostgreSQL's server binaries off PATH, under /usr/lib/postgresql/<version>/bin.
found() { command -v "$1" >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null; }
for dep in "${deps[@]}"; do
  read -r command package <<<"$dep"
  found "$command" || missing+=("$package")
done
((${#missing[@]})) || exit 0

echo "installing from Debian: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
"${sudo[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
  ca-certificates "${missing[@]}"
