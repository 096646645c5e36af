#!/usr/bin/env bash
# Smoke test of the product as a newcomer meets it: no DATABASE_URL, so Tongbao starts its embedded
# PostgreSQL in an empty data folder. Checks /health, the demo credentials, `tongbao demo`, `tongbao ledger
# check` beside the running server, then a restart on the same folder keeps the data. Exits non-zero with
# a message (and the server's log) on the first failure; always stops what it started and removes the folder.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly health_timeout_seconds=120
readonly stop_timeout_seconds=60

data_dir="$(mktemp -d "${TMPDIR:-/tmp}/tongbao-smoke-data.XXXXXX")"
log_dir="$(mktemp -d "${TMPDIR:-/tmp}/tongbao-smoke-logs.XXXXXX")"
server_pid=""
server_log=""

say() { printf 'smoke: %s\n' "$*"; }

fail() {
  printf 'smoke: FAILED: %s\n' "$*" >&2
  if [[ -n "$server_log" && -s "$server_log" ]]; then
    printf 'smoke: --- server log (%s) ---\n' "$server_log" >&2
    tail -n 200 "$server_log" >&2 || true
    printf 'smoke: --- end of server log ---\n' >&2
  fi
  exit 1
}

# Stops the server this script started, then, should the embedded PostgreSQL have outlived it, that server too
# (by the pid in its own postmaster.pid), and removes the temporary folders.
cleanup() {
  local status=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 "$stop_timeout_seconds"); do kill -0 "$server_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  local postmaster_pid_file="$data_dir/pg/postmaster.pid"
  if [[ -f "$postmaster_pid_file" ]]; then
    local postmaster_pid
    postmaster_pid="$(head -n 1 "$postmaster_pid_file" 2>/dev/null || true)"
    if [[ "$postmaster_pid" =~ ^[0-9]+$ ]] && kill -0 "$postmaster_pid" 2>/dev/null; then
      kill -INT "$postmaster_pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$postmaster_pid" 2>/dev/null || break; sleep 1; done
    fi
  fi
  rm -rf "$data_dir" "$log_dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Three distinct free TCP ports on 127.0.0.1, held open together while chosen so they differ.
free_ports() {
  node -e '
    const net = require("node:net");
    const servers = [0, 1, 2].map(() => net.createServer());
    Promise.all(servers.map((s) => new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve(s.address().port)))))
      .then((ports) => { console.log(ports.join(" ")); servers.forEach((s) => s.close()); });'
}

# Prints the HTTP status of GET <url> (000 when nothing answers); the optional second argument is a bearer token.
http_status() {
  node -e '
    const [url, token] = process.argv.slice(1);
    fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) })
      .then((response) => console.log(response.status), () => console.log("000"));' "$@"
}

# GET <url> with the bearer token; prints the body, fails unless the status is 200.
http_get_json() {
  node -e '
    const [url, token] = process.argv.slice(1);
    fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10000) })
      .then(async (response) => { const text = await response.text(); console.log(text); process.exit(response.status === 200 ? 0 : 1); },
            (error) => { console.error(error.message); process.exit(1); });' "$@"
}

# Reads `tongbao ledger check` JSON on stdin; prints the transaction count, fails unless ok is true.
ledger_transactions() {
  node -e '
    let text = "";
    process.stdin.on("data", (chunk) => { text += chunk; });
    process.stdin.on("end", () => {
      const report = JSON.parse(text);
      if (report.ok !== true) { console.error("the ledger check is not ok"); process.exit(1); }
      console.log(String(report.transactions));
    });'
}

read -r http_port sandbox_port pg_port < <(free_ports)
[[ -n "$pg_port" ]] || fail "could not find three free ports"

# Every tongbao command here runs on the embedded PostgreSQL in $data_dir, never on a DATABASE_URL from outside.
tongbao_command=(
  env -u DATABASE_URL -u TONGBAO_SANDBOX_URL -u TONGBAO_PUBLIC_URL
  TONGBAO_DATA_DIR="$data_dir" PORT="$http_port" TONGBAO_SANDBOX_PORT="$sandbox_port" TONGBAO_EMBEDDED_PG_PORT="$pg_port"
  node dist/src/cli.js
)
tongbao() { "${tongbao_command[@]}" "$@"; }

start_server() {
  local run="$1"
  server_log="$log_dir/server-$run.log"
  say "starting Tongbao ($run) on port $http_port, embedded PostgreSQL on port $pg_port, data in $data_dir"
  # exec, so that $! is the server's own pid (env execs node in turn) and SIGTERM reaches the server itself.
  (exec "${tongbao_command[@]}" start) >"$server_log" 2>&1 &
  server_pid=$!
  local deadline=$((SECONDS + health_timeout_seconds))
  until [[ "$(http_status "http://127.0.0.1:$http_port/health")" == "200" ]]; do
    kill -0 "$server_pid" 2>/dev/null || fail "the server ($run) exited before /health answered 200"
    ((SECONDS < deadline)) || fail "GET /health did not answer 200 within ${health_timeout_seconds} s ($run)"
    sleep 1
  done
  say "GET /health = 200 ($run start, after $((SECONDS - deadline + health_timeout_seconds)) s)"
}

stop_server() {
  local run="$1"
  kill -TERM "$server_pid" 2>/dev/null || fail "the server ($run) was no longer running when it was to be stopped"
  local deadline=$((SECONDS + stop_timeout_seconds))
  while kill -0 "$server_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "the server ($run) did not stop within ${stop_timeout_seconds} s of SIGTERM"
    sleep 1
  done
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  ((status == 0)) || fail "the server ($run) exited with status $status after SIGTERM"
  [[ ! -f "$data_dir/pg/postmaster.pid" ]] || fail "the embedded PostgreSQL still runs after the server ($run) stopped"
  say "server stopped cleanly on SIGTERM ($run)"
}

say "building"
npm run build --silent >"$log_dir/build.log" 2>&1 || { cat "$log_dir/build.log" >&2; fail "npm run build failed"; }

start_server first
[[ -f "$data_dir/demo-app.json" ]] || fail "$data_dir/demo-app.json was not written on first start"
say "demo credentials written to $data_dir/demo-app.json"

demo_log="$log_dir/demo.log"
if ! tongbao demo --credentials "$data_dir/demo-app.json" >"$demo_log" 2>&1; then
  cat "$demo_log" >&2
  fail "tongbao demo did not succeed"
fi
cat "$demo_log"
trade_no="$(sed -n 's/.*created trade \([0-9A-Za-z]*\):.*/\1/p' "$demo_log" | head -n 1)"
[[ -n "$trade_no" ]] || fail "could not read the demo's trade number from its output"

ledger_before="$(tongbao ledger check)" || { printf '%s\n' "$ledger_before" >&2; fail "tongbao ledger check failed while the server runs"; }
transactions_before="$(ledger_transactions <<<"$ledger_before")" || fail "tongbao ledger check reported a broken ledger: $ledger_before"
((transactions_before > 0)) || fail "the ledger has no transactions after the demo"
say "ledger check ok beside the running server: $transactions_before transactions"

stop_server first
start_server second

ledger_after="$(tongbao ledger check)" || { printf '%s\n' "$ledger_after" >&2; fail "tongbao ledger check failed after the restart"; }
transactions_after="$(ledger_transactions <<<"$ledger_after")" || fail "tongbao ledger check reported a broken ledger after the restart: $ledger_after"
((transactions_after == transactions_before)) || fail "the ledger had $transactions_before transactions before the restart and $transactions_after after"
say "ledger check ok after the restart: still $transactions_after transactions"

admin_token="$(cat "$data_dir/admin-token")" || fail "no admin token in $data_dir/admin-token"
trade_json="$(http_get_json "http://127.0.0.1:$http_port/admin/trades/$trade_no" "$admin_token")" \
  || fail "GET /admin/trades/$trade_no after the restart did not answer 200: $trade_json"
grep -q "\"trade_no\":\"$trade_no\"" <<<"$trade_json" || fail "GET /admin/trades/$trade_no answered without the trade: $trade_json"
say "trade $trade_no is still there after the restart"

stop_server second
say "passed"
