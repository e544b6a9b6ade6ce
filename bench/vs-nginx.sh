#!/usr/bin/env bash
# Cache hits: nginx proxy_cache vs weft's web cache, in front of the same
# origin (bench/cache-origin.ts), everything on 127.0.0.1; then a 3-node weft
# cluster entered through a node that does not own the URL, and the hit
# ratio while one of the three nodes is SIGKILLed (bench/cache-loss.ts).
# Installs Debian's nginx and wrk when missing; stops everything it started.
# nginx and one weft node are measured in alternating rounds; each ratio is
# the median of the per-round ratios, since the load of a shared machine
# moves between runs more than the ratio does.
#   bench/vs-nginx.sh   (ROUNDS=5 DURATION=5 CONNECTIONS=32 SIZE=1024 NGINX_WORKERS=1 to change)
# Last line: hit_tput_ratio=<weft/nginx req/s> hit_p99_ratio=<weft/nginx p99> nonowner_added_p50_ms=<ms>
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-32}
SIZE=${SIZE:-1024}
NGINX_WORKERS=${NGINX_WORKERS:-1}

for tool in nginx wrk; do
  if ! command -v "$tool" >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
  fi
done

work=$(mktemp -d /tmp/weft-vs-nginx.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

wait_http() { # url: poll until it answers 200, at most 60 s
  for _ in $(seq 1 600); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

to_ms() { # a wrk latency figure (850.00us, 1.20ms, 2.01s) in ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) n *= 1000; printf "%.3f", n }'
}

run_wrk() { # label connections url: prints "<req/s> <p50 ms> <p99 ms>" and the wrk summary on stderr
  local out
  out=$(wrk -t1 -c"$2" -d"${DURATION}s" --latency "$3")
  echo "$out" | sed "s/^/  [$1] /" >&2
  if echo "$out" | grep -q 'Non-2xx'; then echo "$1: wrk saw errors" >&2; exit 1; fi
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  p50=$(to_ms "$(echo "$out" | awk '$1 == "50%" { print $2 }')")
  p99=$(to_ms "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
  echo "$rps $p50 $p99"
}

start_weft() { # dir id http-port peer-port peers extra-flags...: starts a node in the background
  local dir=$1 id=$2 http=$3 peer=$4 peers=$5
  shift 5
  node bin/weft.js node --id "$id" --http-port "$http" --peer-port "$peer" --peers "$peers" \
    --data-dir "$work/$dir" --log-level warn --cache-allow 127.0.0.1/32 "$@" >"$work/$dir.log" 2>&1 &
  pids+=($!)
}

origin_port=$(free_port)
node --import tsx bench/cache-origin.ts --port "$origin_port" --size "$SIZE" &
pids+=($!)
origin="http://127.0.0.1:$origin_port"
wait_http "$origin/origin-stats"
target="$origin/obj-1"
encoded=$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$target")

# nginx: a plain proxy_cache in front of the origin; it honours the origin's Cache-Control.
nginx_port=$(free_port)
mkdir -p "$work/nginx/cache" "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $NGINX_WORKERS;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  proxy_cache_path $work/nginx/cache levels=1:2 keys_zone=bench:10m max_size=256m;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass $origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      add_header X-Cache \$upstream_cache_status;
    }
  }
}
CONF
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_http "http://127.0.0.1:$nginx_port/obj-1"
curl -s -o /dev/null "http://127.0.0.1:$nginx_port/obj-1"
[ "$(curl -s -o /dev/null -D - "http://127.0.0.1:$nginx_port/obj-1" | tr -d '\r' | awk -F': ' '/^X-Cache/ { print $2 }')" = HIT ]

# One weft node.
single_http=$(free_port)
single_peer=$(free_port)
start_weft s1 s1 "$single_http" "$single_peer" "s1=127.0.0.1:$single_peer"
single_pid=${pids[-1]}
wait_http "http://127.0.0.1:$single_http/ready"
single="http://127.0.0.1:$single_http/cache?url=$encoded"
curl -s -o /dev/null "$single"
[ "$(curl -s -o /dev/null -D - "$single" | tr -d '\r' | awk -F': ' '/^x-cache:/ { print $2 }')" = HIT ]

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs; object $SIZE bytes; $ROUNDS rounds of wrk -t1 -c$CONNECTIONS -d${DURATION}s" >&2
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rounds=""
for round in $(seq 1 "$ROUNDS"); do
  read -r nginx_rps _ nginx_p99 < <(run_wrk "nginx x$NGINX_WORKERS, round $round" "$CONNECTIONS" "http://127.0.0.1:$nginx_port/obj-1")
  read -r weft_rps _ weft_p99 < <(run_wrk "weft 1 node, round $round" "$CONNECTIONS" "$single")
  echo "round $round: nginx ${nginx_rps} req/s p99 ${nginx_p99} ms; weft ${weft_rps} req/s p99 ${weft_p99} ms" >&2
  rounds+="$nginx_rps $nginx_p99 $weft_rps $weft_p99"$'\n'
done
kill "$single_pid"
pick() { echo -n "$rounds" | awk "NF { print $1 }" | median; }
nginx_rps=$(pick '$1')
nginx_p99=$(pick '$2')
weft_rps=$(pick '$3')
weft_p99=$(pick '$4')
tput_ratio=$(pick '$3 / $1')
p99_ratio=$(pick '$4 / $2')

# Three weft nodes (one Raft voter, so Raft stays idle); $1 extra flags for all.
cluster() {
  local ports=() peers=""
  for i in 1 2 3; do
    ports+=("$(free_port) $(free_port)")
    peers+="${peers:+,}c$i=127.0.0.1:$(echo "${ports[-1]}" | cut -d' ' -f2)"
  done
  cluster_http=()
  cluster_pids=()
  for i in 1 2 3; do
    read -r http peer <<<"${ports[$((i - 1))]}"
    start_weft "$1-c$i" "c$i" "$http" "$peer" "$peers" --raft-voters c1 "${@:2}"
    cluster_pids+=("${pids[-1]}")
    cluster_http+=("http://127.0.0.1:$http")
  done
  for url in "${cluster_http[@]}"; do wait_http "$url/ready"; done
}

owned_elsewhere() { # prints the encoded URL of an object whose owner is not c1, and that owner's HTTP URL
  for n in $(seq 2 200); do
    local enc
    enc=$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$origin/obj-$n")
    local owner
    owner=$(curl -s -o /dev/null -D - "${cluster_http[0]}/cache?url=$enc" | tr -d '\r' | awk -F': ' '/^x-cache-node:/ { print $2 }')
    if [ "$owner" != c1 ]; then
      echo "$enc ${cluster_http[$((${owner#c} - 1))]}"
      return
    fi
  done
}

# Through a non-owner, the near-cache off (every request crosses to the owner), then on (the default).
for mode in hop near; do
  if [ $mode = hop ]; then cluster hop --cache-near-ttl-ms 0; else cluster near; fi
  read -r enc owner_http < <(owned_elsewhere)
  curl -s -o /dev/null "${cluster_http[0]}/cache?url=$enc"
  read -r _ owner_p50 _ < <(run_wrk "$mode: owner, 1 conn" 1 "$owner_http/cache?url=$enc")
  read -r _ entry_p50 _ < <(run_wrk "$mode: non-owner, 1 conn" 1 "${cluster_http[0]}/cache?url=$enc")
  read -r entry_rps _ entry_p99 < <(run_wrk "$mode: non-owner" "$CONNECTIONS" "${cluster_http[0]}/cache?url=$enc")
  added=$(awk -v a="$entry_p50" -v b="$owner_p50" 'BEGIN { printf "%.3f", a - b }')
  echo "cluster ($mode): owner p50 ${owner_p50} ms, non-owner p50 ${entry_p50} ms (added ${added} ms); non-owner ${entry_rps} req/s, p99 ${entry_p99} ms" >&2
  if [ $mode = hop ]; then hop_added=$added; else near_added=$added; fi
  if [ $mode = near ]; then
    # Hit ratio while c2 or c3 (whichever owns obj-*-owned keys) dies: clients enter through c1 and one other.
    node --import tsx bench/cache-loss.ts --entries "${cluster_http[0]},${cluster_http[1]}" --origin "$origin" --kill-pid "${cluster_pids[2]}" >&2
  fi
  for pid in "${cluster_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
done

echo "origin requests: $(curl -s "$origin/origin-stats"); load average $(cut -d' ' -f1-3 /proc/loadavg) after the runs" >&2
echo "medians of $ROUNDS rounds: nginx x$NGINX_WORKERS ${nginx_rps} req/s p99 ${nginx_p99} ms; weft 1 node ${weft_rps} req/s p99 ${weft_p99} ms"
echo "non-owner added p50: ${hop_added} ms with the near-cache off (one peer round trip), ${near_added} ms with it on (default)"
printf 'hit_tput_ratio=%.2f hit_p99_ratio=%.2f nonowner_added_p50_ms=%s\n' "$tput_ratio" "$p99_ratio" "$hop_added"
