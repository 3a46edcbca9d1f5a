#!/usr/bin/env bash
# What an integrator relies on, checked against the committed API description and a live
# server: the spec is valid OpenAPI 3.1, the lint (.spectral.yaml) finds no error,
# TypeScript types and a Python client generate from it, the README's tour runs through
# the generated Python client, and schemathesis finds nothing over every operation.
#
#   tools/api/check.sh [path/to/sims]      (default: target/debug/sims)
#
# Tools are pinned (package.json + package-lock.json, requirements.txt) and installed
# here, under tools/api/.venv and tools/api/node_modules. API_CHECK_SECONDS bounds the
# schemathesis run (default 240 s).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$(realpath "${1:-$root/target/debug/sims}")"
spec="$root/openapi/openapi.json"
out="$here/out"
cd "$here"

echo "== API tools (pinned)"
if ! command -v npm >/dev/null || ! command -v curl >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl nodejs npm python3 python3-venv >/dev/null
fi
[ -x .venv/bin/pip ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
npm ci --no-audit --no-fund --loglevel=error
rm -rf "$out"
mkdir -p "$out"

echo "== the spec is valid OpenAPI 3.1"
.venv/bin/openapi-spec-validator "$spec"

echo "== lint: Spectral (oas + OWASP API Security), zero errors"
npx spectral lint "$spec" --fail-severity error --display-only-failures -q

echo "== TypeScript types (openapi-typescript), compiled strictly"
npx openapi-typescript "$spec" -o "$out/sims.ts" >/dev/null
npx tsc -p tsconfig.json

echo "== Python client (openapi-python-client)"
.venv/bin/openapi-python-client generate --path "$spec" --config client-config.yaml \
  --output-path "$out/python" --overwrite >"$out/python-client.log" 2>&1 \
  || { cat "$out/python-client.log"; exit 1; }
.venv/bin/pip install -q --disable-pip-version-check "$out/python"

echo "== a live server"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d)"
password="tour-password-$RANDOM$RANDOM"
SIMS_BIND="127.0.0.1:$port" \
  DATABASE_URL="sqlite://$data/sims.db?mode=rwc" \
  SIMS_JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')" \
  SIMS_ADMIN_EMAIL=admin@example.com SIMS_ADMIN_PASSWORD="$password" \
  SIMS_RATE_LIMIT__PER_MINUTE=0 SIMS_AUTH__REQUESTS_PER_MINUTE_PER_ADDRESS=0 \
  SIMS_AUTH__ACCESS_TTL_SECS=3600 \
  "$bin" serve >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 50); do
  curl -fs "$url/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$url/health" >/dev/null || { cat "$out/server.log"; exit 1; }

echo "== the README's tour through the generated Python client"
SIMS_URL="$url" SIMS_ADMIN_PASSWORD="$password" .venv/bin/python tour.py

echo "== schemathesis over every operation, signed in as the admin"
token="$(curl -fs "$url/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"admin@example.com\",\"password\":\"$password\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
.venv/bin/st --config-file schemathesis.toml run "$spec" --url "$url" \
  --header "Authorization: Bearer $token" \
  --max-examples 20 --max-time "${API_CHECK_SECONDS:-240}" --workers 1 --seed 20261201 \
  --no-color --report ndjson --report-dir "$out/schemathesis"
echo "API checks passed"
