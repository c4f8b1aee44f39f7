#!/usr/bin/env bash
# Checks the HTTP API against its OpenAPI document with schemathesis (property-based, seeded, bounded):
# builds rs-broker, starts it on loopback with a throw-away SQLite store, logs in as the first admin,
# changes the one-time password, then lets schemathesis fuzz every operation of /openapi.yaml (served by
# the broker) with the admin's bearer token. Fails on a server error, a response that breaks its
# documented schema, status or content type, or a broker that dies. Stops the broker on exit.
#   Tests/API/run-schemathesis.sh
#   ST_MAX_EXAMPLES=100 ST_SEED=7 Tests/API/run-schemathesis.sh
#   ST_SKIP_BUILD=1 Tests/API/run-schemathesis.sh      (the rs-broker built already)
#   ST_CHECKS=all ST_REPORT_DIR=/tmp/st Tests/API/run-schemathesis.sh   (other checks; keep the report)
#
# Not fuzzed: POST /api/v1/logout and POST /api/v1/me/password (they would revoke the token under the
# run) and GET /api/v1/lobby/events (an endless event stream). POST .../reset-password always targets an
# agent made for it (on the admin's own id it would revoke the token). POST /api/v1/login is fuzzed with few
# examples: failed logins are rate limited per address (429 is documented) and every attempt costs a
# production-strength password hash, as do POST /api/v1/agents and .../reset-password.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-30}
SEED=${ST_SEED:-20250131}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/rs-schemathesis
VENV=$CACHE/venv-$SCHEMATHESIS_VERSION

# schemathesis in its own venv, installed once per version.
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

# ST_SKIP_BUILD=1 uses the rs-broker already built.
[ "${ST_SKIP_BUILD:-0}" = 1 ] || swift build --product rs-broker
BIN=$(swift build --show-bin-path)/rs-broker

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rs-schemathesis.XXXXXX")
BROKER_PID=
cleanup() {
  if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BROKER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --data "$WORK/data" --host 127.0.0.1 --port "$PORT" --protocol-port 0 >"$WORK/broker.out" 2>"$WORK/broker.err" &
BROKER_PID=$!
BASE=http://127.0.0.1:$PORT

# It prints the first admin's one-time password once it serves.
PASSWORD=
for _ in $(seq 600); do
  PASSWORD=$(sed -n '/one-time password/{n;s/^ *//;s/ *$//;p;}' "$WORK/broker.out")
  [ -n "$PASSWORD" ] && break
  kill -0 "$BROKER_PID" 2>/dev/null || { echo "rs-broker exited:"; cat "$WORK/broker.out" "$WORK/broker.err"; exit 1; }
  sleep 0.1
done
[ -n "$PASSWORD" ] || { echo "rs-broker printed no one-time password"; cat "$WORK/broker.out" "$WORK/broker.err"; exit 1; }
echo "== rs-broker (pid $BROKER_PID) serves $BASE"

# Log in, change the default password, keep the new token.
LOGIN=$(BASE=$BASE PASSWORD=$PASSWORD python3 - <<'EOF'
import json, os, urllib.request
base = os.environ["BASE"]
def post(path, body, token=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)
login = post("/api/v1/login", {"email": "admin@localhost", "password": os.environ["PASSWORD"]})
assert login["mustChangePassword"] is True, login
changed = post("/api/v1/me/password", {"current": os.environ["PASSWORD"], "new": "schemathesis admin password"},
               login["token"])
# The agent whose password the run resets (see below).
created = post("/api/v1/agents", {"email": "reset-me@example.com", "name": "Reset Me"}, changed["token"])
print(changed["token"], created["agent"]["id"])
EOF
)
read -r TOKEN RESET_AGENT <<<"$LOGIN"
[ -n "$TOKEN" ] && [ -n "$RESET_AGENT" ] || { echo "could not log in"; exit 1; }

# Per-operation bounds: the password-hashing operations get few examples.
cat >"$WORK/schemathesis.toml" <<EOF
[cache]
enabled = false

[generation]
max-examples = $MAX_EXAMPLES

[[operations]]
include-operation-id = ["login", "createAgent"]
generation.max-examples = 5

# Resetting the admin's own password would revoke the run's token (schemathesis reuses ids it saw in
# responses, e.g. of GET /api/v1/me), so this operation always targets an agent made for it.
[[operations]]
include-operation-id = "resetAgentPassword"
generation.max-examples = 5
parameters = { "path.id" = "$RESET_AGENT" }
EOF

echo "== schemathesis $SCHEMATHESIS_VERSION against $BASE/openapi.yaml (seed $SEED, $MAX_EXAMPLES examples per operation)"
status=0
start=$(date +%s)
"$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$BASE/openapi.yaml" \
  --url "$BASE" \
  --header "Authorization: Bearer $TOKEN" \
  --checks "${ST_CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance}" \
  --phases examples,coverage,fuzzing \
  --exclude-operation-id logout --exclude-operation-id changePassword --exclude-operation-id getLobbyEvents \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 30 \
  --no-color \
  --report junit --report-dir "${ST_REPORT_DIR:-$WORK/report}" || status=$?
echo "== schemathesis took $(( $(date +%s) - start )) s"

# The broker must have survived the run.
if ! kill -0 "$BROKER_PID" 2>/dev/null; then
  echo "rs-broker died during the run:"; tail -50 "$WORK/broker.err"; status=1
elif ! python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=10)" "$BASE/health"; then
  echo "rs-broker no longer answers /health"; status=1
fi
if [ -s "$WORK/broker.err" ] && grep -q "Fatal error" "$WORK/broker.err"; then
  grep -A5 "Fatal error" "$WORK/broker.err"; status=1
fi
exit $status
