#!/usr/bin/env bash
# weft against a real etcd 3.4 on this machine, in one run (bench/vs-etcd.ts):
# a 3-node weft cluster and a 3-member etcd cluster on loopback, both
# fsync'ing, under the same etcd v3 workload in alternating rounds; then
# leader SIGKILLs under write load on weft (s-raft), etcd with its defaults,
# and etcd with weft's heartbeat, election timeout and pre-vote. Each cluster
# first runs the workload unmeasured for WARMUP_MS.
# Installs Debian's etcd-server when etcd is missing.
#   bench/vs-etcd.sh   (ROUNDS=3 DURATION_MS=10000 WARMUP_MS=5000 CLIENTS=32 TRIALS=10 to change)
# Second-to-last line: failover_p99_ms_weft=… failover_p99_ms_etcd=… failover_p99_ms_etcd_matched=…
# Last line: write_tput_ratio=<weft/etcd ops/s> write_p99_ratio=<weft/etcd p99> read_tput_ratio=<weft/etcd ops/s>
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v etcd >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
fi
[ -d node_modules ] || npm install --no-audit --no-fund >/dev/null

exec node --import tsx bench/vs-etcd.ts \
  --rounds "${ROUNDS:-3}" --duration-ms "${DURATION_MS:-10000}" --warmup-ms "${WARMUP_MS:-5000}" --clients "${CLIENTS:-32}" --trials "${TRIALS:-10}"
