#!/usr/bin/env bash
# Every collector endpoint with curl. Start a collector first (`npm start` at the repo root), then:
#   bash examples/curl/run.sh [http://127.0.0.1:8181]
set -euo pipefail
URL=${1:-${MAAP_URL:-http://127.0.0.1:8181}}
say() { printf '\n$ %s\n' "$*"; }

say "POST /log — one event (the original API)"
curl -sS -X POST "$URL/log" -H 'content-type: application/json' \
  -d '{"level":"WARNING","message":"disk almost full","app_name":"billing","disk":"/dev/sda1","free_mb":512}'

say "POST /logs — an NDJSON batch; the bad line is rejected, its neighbours are stored"
printf '%s\n' \
  '{"level":30,"message":"pino-style numeric level","app_name":"billing","time":1764230400000}' \
  'this line is not JSON' \
  '{"level":"http","message":"winston npm level","app_name":"billing","timestamp":"2026-11-27T10:00:00Z"}' |
  curl -sS -X POST "$URL/logs" -H 'content-type: application/x-ndjson' --data-binary @-

say "POST /logs — a gzip-compressed JSON array"
echo '[{"message":"one","app_name":"billing"},{"message":"two","app_name":"billing","level":"debug"}]' | gzip |
  curl -sS -X POST "$URL/logs" -H 'content-type: application/json' -H 'content-encoding: gzip' --data-binary @-

say "POST /log — a client error: unknown level (400 with the accepted names)"
curl -sS -X POST "$URL/log" -H 'content-type: application/json' -d '{"level":"LOUD","message":"x","app_name":"billing"}'

say "GET /status"
curl -sS "$URL/status"

say "POST /force-flush — everything journaled goes to MongoDB before the answer (an empty JSON body is fine)"
curl -sS -X POST "$URL/force-flush" -H 'content-type: application/json'

say "GET /health — liveness; GET /ready — readiness, with the reasons when it is not"
curl -sS "$URL/health"
echo
curl -sS "$URL/ready"

say "GET /metrics — Prometheus text (the collector's maap_* lines)"
curl -sS "$URL/metrics" | grep '^maap_events'
echo
