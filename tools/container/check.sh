#!/usr/bin/env bash
# The container as ops teams run it: build the image (report its size), start
# `docker compose up` with PostgreSQL, wait until the API is healthy, sign in, create a
# customer, and tear everything down. Where no Docker engine answers, says so and exits 0:
# there is nothing to check against.
#
#   tools/container/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  echo "container check skipped: no Docker engine answers here (docker info failed)"
  exit 0
fi
if ! docker compose version >/dev/null 2>&1; then
  echo "container check skipped: the Docker engine has no compose plugin"
  exit 0
fi

project="sims-check-$$"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
password="check-password-$RANDOM$RANDOM"
export SIMS_JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
export SIMS_ADMIN_PASSWORD="$password"
export SIMS_HTTP_PORT="$port"
compose=(docker compose -p "$project" -f docker-compose.yml)
trap '"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT

echo "== build the image"
"${compose[@]}" build api
image="$("${compose[@]}" images -q api 2>/dev/null | head -n 1)"
[ -n "$image" ] || image="$(docker images -q "${project}-api" | head -n 1)"
echo "image size: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1 / 1e6}')"
user="$(docker image inspect -f '{{.Config.User}}' "$image")"
[ -n "$user" ] && [ "$user" != "root" ] && [ "$user" != "0" ] || { echo "the image runs as root"; exit 1; }

echo "== docker compose up (PostgreSQL + SIMS)"
"${compose[@]}" up -d
for _ in $(seq 1 90); do
  status="$(docker inspect -f '{{.State.Health.Status}}' "$("${compose[@]}" ps -q api)" 2>/dev/null || true)"
  [ "$status" = "healthy" ] && break
  sleep 2
done
[ "$status" = "healthy" ] || { "${compose[@]}" logs api | tail -n 50; echo "the API never became healthy"; exit 1; }
url="http://127.0.0.1:$port"
curl -fs "$url/ready" >/dev/null

echo "== sign in and create a customer"
token="$(curl -fs "$url/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"admin@example.com\",\"password\":\"$password\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
curl -fs "$url/api/v1/customers" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"Container Check Co"}' | python3 -c 'import json, sys; assert json.load(sys.stdin)["name"] == "Container Check Co"'
# JSON logs by default, and no colour codes in them.
"${compose[@]}" logs --no-log-prefix api | head -n 5 | python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if line:
        json.loads(line)
        assert "\x1b[" not in line
'
echo "container check passed"
