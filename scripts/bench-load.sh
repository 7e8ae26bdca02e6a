#!/usr/bin/env bash
# Load runs against a real server over loopback with wrk (2 threads, 32
# connections): KV v2 read, token lookup-self, KV v2 write (durable storage).
#
#   scripts/bench-load.sh kinko            # builds and runs ./cmd/kinko
#   BAO=/path/to/bao scripts/bench-load.sh bao   # the same runs against OpenBao
#
# Needs wrk (apt-get install wrk), curl and jq-free bash. Prints one line per
# run: "<server> <test> <req/s> <p50> <p99>".
set -euo pipefail
target="${1:-kinko}"
dur="${DURATION:-10s}"
port_dev=18300
port_durable=18310
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$(dirname "$0")/.."

if [ "$target" = kinko ]; then
  go build -o "$work/kinko" ./cmd/kinko
  bin="$work/kinko"
else
  bin="${BAO:?set BAO to the OpenBao binary}"
fi

wait_up() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/v1/sys/health" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }

# 1. dev server (in memory) for reads
TMPDIR="$work" HOME="$work" "$bin" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$port_dev" >"$work/dev.log" 2>&1 &
pids+=($!)
wait_up $port_dev

# 2. durable server: kinko on bolt, OpenBao on raft (its integrated storage), both fsync
mkdir -p "$work/data"
if [ "$target" = kinko ]; then
  cat >"$work/server.hcl" <<HCL
storage "bolt" { path = "$work/data/kinko.db" }
listener "tcp" { address = "127.0.0.1:$port_durable" tls_disable = true }
HCL
else
  cat >"$work/server.hcl" <<HCL
storage "raft" { path = "$work/data" node_id = "n1" }
listener "tcp" { address = "127.0.0.1:$port_durable" tls_disable = true }
api_addr = "http://127.0.0.1:$port_durable"
cluster_addr = "http://127.0.0.1:$((port_durable+1))"
HCL
fi
"$bin" server -config="$work/server.hcl" >"$work/durable.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$port_durable/v1/sys/seal-status" >/dev/null 2>&1 && break; sleep 0.1; done
init=""
for _ in $(seq 1 100); do
  init=$(curl -sf -X PUT -d '{"secret_shares":1,"secret_threshold":1}' "http://127.0.0.1:$port_durable/v1/sys/init") && break
  sleep 0.1
done
[ -n "$init" ] || { echo "init failed:"; cat "$work/durable.log"; exit 1; } >&2
key=$(echo "$init" | sed 's/.*"keys_base64":\["\([^"]*\)".*/\1/')
root=$(echo "$init" | sed 's/.*"root_token":"\([^"]*\)".*/\1/')
curl -sf -X PUT -d "{\"key\":\"$key\"}" "http://127.0.0.1:$port_durable/v1/sys/unseal" >/dev/null
for _ in $(seq 1 100); do curl -sf -H "X-Vault-Token: $root" "http://127.0.0.1:$port_durable/v1/sys/mounts" >/dev/null 2>&1 && break; sleep 0.1; done
for _ in $(seq 1 100); do
  curl -sf -H "X-Vault-Token: $root" -X POST -d '{"type":"kv","options":{"version":"2"}}' "http://127.0.0.1:$port_durable/v1/sys/mounts/secret" >/dev/null && break
  sleep 0.1
done

secret='{"data":{"user":"app","password":"correct horse battery staple"}}'
curl -sf -H "X-Vault-Token: root" -X POST -d "$secret" "http://127.0.0.1:$port_dev/v1/secret/data/bench" >/dev/null

cat >"$work/write.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/v1/secret/data/bench/" .. (counter % 1024), {["X-Vault-Token"] = "$root", ["Content-Type"] = "application/json"}, '$secret')
end
LUA

run() { # name url token [script]
  local out
  if [ -n "${4:-}" ]; then
    out=$(wrk -t2 -c32 -d"$dur" --latency -s "$4" "$2")
  else
    out=$(wrk -t2 -c32 -d"$dur" --latency -H "X-Vault-Token: $3" "$2")
  fi
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  echo "$target $1 req/s=$rps p50=$p50 p99=$p99 non2xx=${errs:-0}"
}

run kv2-read "http://127.0.0.1:$port_dev/v1/secret/data/bench" root
run token-lookup-self "http://127.0.0.1:$port_dev/v1/auth/token/lookup-self" root
run kv2-write-durable "http://127.0.0.1:$port_durable" "$root" "$work/write.lua"

# 4. audit overhead: the same KV read with one file audit device enabled
if [ "$target" = kinko ]; then
  curl -sf -H "X-Vault-Token: root" -X PUT -d "{\"type\":\"file\",\"options\":{\"file_path\":\"$work/audit.log\"}}" \
    "http://127.0.0.1:$port_dev/v1/sys/audit/file" >/dev/null
  run kv2-read-audited "http://127.0.0.1:$port_dev/v1/secret/data/bench" root
fi
