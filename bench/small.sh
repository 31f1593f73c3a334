#!/usr/bin/env bash
# Many small packages: the gateway against nginx, in one run, with the same load generator
# (bench/load.cpp: keep-alive HTTP/1.1 over mutual TLS 1.3, one blocking thread per client).
#
#   push-4k-64   4 KiB pushes from 64 clients     (nginx: WebDAV PUT of new 4 KiB files)
#   push-4k-1    the same from one client
#   push-64k-64  64 KiB pushes from 64 clients    (memory)
#   pull-4k-64   4 KiB pulls from 64 clients      (nginx: GET of the same number of 4 KiB files)
#   pull-1m-100  1 MiB pulls from 100 clients
#   idle-1000    1,000 idle authenticated connections while one client pushes
#
# For each: requests per second, p50/p99 latency, the server's CPU per request (user + system of
# every thread, from /proc) and its peak RSS during the run (VmHWM, reset before each run). The
# gateway's receipts are durable (fsync before the answer); nginx does not fsync. Ends with one
# "RESULT name=value" line per figure.
#
# Environment:
#   SERAMBI_BIN    gateway/CLI binary (default: build/cli/serambi)
#   LOAD_BIN       load generator (default: build/bench/serambi_load)
#   BENCH_SECONDS  length of each run (default 10)
#   BENCH_RUNS     interleaved rounds (default 2); the best of them is reported
#   BENCH_ONLY     space-separated scenario names to run (default: all)
#   BENCH_DIR      temporary data (default /tmp/serambi-bench); removed at the end
#   BENCH_KEEP_LOG if set, the gateway's log is copied to this file at the end
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERAMBI=${SERAMBI_BIN:-$ROOT/build/cli/serambi}
LOAD=${LOAD_BIN:-$ROOT/build/bench/serambi_load}
SECONDS_EACH=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-2}
ONLY=${BENCH_ONLY:-push-4k-64 push-4k-1 push-64k-64 pull-4k-64 pull-1m-100 idle-1000}
BASE=${BENCH_DIR:-/tmp/serambi-bench}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

[[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[ -x "$SERAMBI" ] || die "no serambi binary at $SERAMBI (build it, or set SERAMBI_BIN)"
[ -x "$LOAD" ] || die "no load generator at $LOAD (ninja -C build serambi_load, or set LOAD_BIN)"
SERAMBI=$(realpath "$SERAMBI")
command -v nginx >/dev/null || die "nginx is missing; install it with: apt-get install -y nginx-light"
nginx -V 2>&1 | grep -q -- '--with-http_dav_module' || die "this nginx has no WebDAV module (needed for PUT)"
(( $(ulimit -n) >= 4096 )) || ulimit -n 4096 2>/dev/null || die "needs 4096 open files (ulimit -n)"

make_work_dir small

# ---------------------------------------------------------------- gateway
DEP=$WORK/dep
GW_PORT=$(free_port)
"$SERAMBI" init "$DEP" --listen "127.0.0.1:$GW_PORT" >/dev/null
# One principal holds every client's connection here (the default allows 64 of them), and every
# client comes from 127.0.0.1 (the default lets 16 handshakes from one address be pending).
sed -i -e 's/^max_connections_per_principal = 64/max_connections_per_principal = 2000/' \
    -e 's/^max_connections = 1000/max_connections = 2000/' \
    -e 's/^max_pending_handshakes_per_address = 16/max_pending_handshakes_per_address = 256/' "$DEP/serambi.toml"
grep -q '^max_pending_handshakes_per_address = 256' "$DEP/serambi.toml" || die "could not raise the bench's limits"
"$SERAMBI" serve --config "$DEP/serambi.toml" 2>"$WORK/gateway.log" &
GW_PID=$!
for ((i = 0; i < 150; i++)); do
    kill -0 "$GW_PID" 2>/dev/null || { cat "$WORK/gateway.log" >&2; die "the gateway exited at start"; }
    grep -q listening "$WORK/gateway.log" && break
    sleep 0.1
done
grep -q listening "$WORK/gateway.log" || die "the gateway did not report listening in 15 s"
ADMIN=$DEP/profiles/admin
P=$WORK/producer
"$SERAMBI" principal add bench-opd --role producer --name "Bench OPD" --out "$P" --profile "$ADMIN" >/dev/null
"$SERAMBI" dataset create bench-opd/data --class biasa --title Bench --profile "$ADMIN" >/dev/null
GW_TLS=(--connect "127.0.0.1:$GW_PORT" --ca "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")

# ---------------------------------------------------------------- nginx, also verifying the client
NGX=$WORK/nginx
start_nginx_webdav "$NGX" "$P/ca.crt"
sleep 0.3
NGX_PIDS="$NGX_PID $(children_of "$NGX_PID" | tr '\n' ' ')"
NG_TLS=(--connect "127.0.0.1:$NGX_PORT" --ca "$NGX/cert.pem" --cert "$P/client.crt" --key "$P/client.key")

# ---------------------------------------------------------------- files to pull
# 2,000 packages of 4 KiB and 200 of 1 MiB, and the same files for nginx.
seed() { # SIZE COUNT NAME
    local size=$1 count=$2 name=$3 i
    head -c "$size" /dev/urandom >"$WORK/seed.bin"
    mkdir -p "$NGX/root/$name"
    : >"$WORK/$name.gw"
    : >"$WORK/$name.ng"
    "$LOAD" "${GW_TLS[@]}" --method POST --path /v1/datasets/bench-opd/data/packages --size "$size" \
        --header "Serambi-Filename: $name.bin" --clients 8 --requests "$count" --seconds 600 --expect 201 \
        --locations "$WORK/$name.gw" >/dev/null || die "could not push the $name packages"
    for ((i = 0; i < count; i++)); do cp "$WORK/seed.bin" "$NGX/root/$name/$i.bin"; echo "/$name/$i.bin"; done >"$WORK/$name.ng"
    sync
    echo "bench: $(wc -l <"$WORK/$name.gw") gateway packages and $count nginx files of $size bytes"
}

# ---------------------------------------------------------------- measurements
TICK=$(getconf CLK_TCK)
declare -A RATE=() P99=() CPU_US=() RSS=()
measure() { # NAME SERVER PIDS RSS_PID LOAD_ARGS...
    local name=$1 server=$2 pids=$3 rss_pid=$4 c0 c1 out rate p99 requests cpu_us rss
    shift 4
    echo 5 >"/proc/$rss_pid/clear_refs" 2>/dev/null || true   # resets VmHWM to the current RSS
    c0=$(cpu_ticks $pids)
    out=$("$LOAD" "$@" --seconds "$SECONDS_EACH" 2>"$WORK/load.err") || {
        cat "$WORK/load.err" >&2
        echo "$out" >&2
        die "$name ($server): the load generator saw failures"
    }
    c1=$(cpu_ticks $pids)
    rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$out")
    p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")
    requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")
    cpu_us=$(awk -v a="$c0" -v b="$c1" -v k="$TICK" -v n="$requests" 'BEGIN {printf "%.0f", (b - a) / k * 1e6 / n}')
    rss=0
    for pid in $pids; do
        rss=$((rss + $(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
    done
    printf '  %-12s %-8s %8s req/s   p99 %7s ms   %6s µs CPU/req   peak RSS %6d MiB\n' \
        "$name" "$server" "$rate" "$p99" "$cpu_us" $((rss / 1024))
    local key="$name/$server"
    if [ -z "${RATE[$key]:-}" ] || awk -v a="$rate" -v b="${RATE[$key]}" 'BEGIN {exit !(a > b)}'; then
        RATE[$key]=$rate P99[$key]=$p99 CPU_US[$key]=$cpu_us
    fi
    if [ -z "${RSS[$key]:-}" ] || ((rss / 1024 > RSS[$key])); then RSS[$key]=$((rss / 1024)); fi
}
wanted() { [[ " $ONLY " == *" $1 "* ]]; }

PUSH=(--method POST --path /v1/datasets/bench-opd/data/packages --header "Serambi-Filename: small.csv"
      --header "Content-Type: text/csv" --expect 201)
PUT=(--method PUT --expect 201)
scenario() { # NAME ORDER
    local name=$1 order=$2 first second
    case $name in
        push-4k-64) gw=("${GW_TLS[@]}" "${PUSH[@]}" --size 4096 --clients 64)
                    ng=("${NG_TLS[@]}" "${PUT[@]}" --path "/put/r$order-{c}-{n}.bin" --size 4096 --clients 64) ;;
        push-4k-1)  gw=("${GW_TLS[@]}" "${PUSH[@]}" --size 4096 --clients 1)
                    ng=("${NG_TLS[@]}" "${PUT[@]}" --path "/put/s$order-{c}-{n}.bin" --size 4096 --clients 1) ;;
        push-64k-64) gw=("${GW_TLS[@]}" "${PUSH[@]}" --size 65536 --clients 64)
                    ng=("${NG_TLS[@]}" "${PUT[@]}" --path "/put/m$order-{c}-{n}.bin" --size 65536 --clients 64) ;;
        pull-4k-64) gw=("${GW_TLS[@]}" --paths "$WORK/small.gw" --clients 64 --expect 200)
                    ng=("${NG_TLS[@]}" --paths "$WORK/small.ng" --clients 64 --expect 200) ;;
        pull-1m-100) gw=("${GW_TLS[@]}" --paths "$WORK/large.gw" --clients 100 --expect 200)
                    ng=("${NG_TLS[@]}" --paths "$WORK/large.ng" --clients 100 --expect 200) ;;
        idle-1000)  gw=("${GW_TLS[@]}" "${PUSH[@]}" --size 4096 --clients 1 --idle 1000)
                    ng=("${NG_TLS[@]}" "${PUT[@]}" --path "/put/i$order-{c}-{n}.bin" --size 4096 --clients 1 --idle 1000) ;;
    esac
    if ((order % 2)); then
        measure "$name" serambi "$GW_PID" "$GW_PID" "${gw[@]}"
        measure "$name" nginx "$NGX_PIDS" "$NGX_PID" "${ng[@]}"
    else
        measure "$name" nginx "$NGX_PIDS" "$NGX_PID" "${ng[@]}"
        measure "$name" serambi "$GW_PID" "$GW_PID" "${gw[@]}"
    fi
    rm -rf "$NGX/root/put"
}

if wanted pull-4k-64; then seed 4096 2000 small; fi
if wanted pull-1m-100; then seed $((1 << 20)) 200 large; fi
echo "bench: ${SECONDS_EACH} s per run, ${RUNS} interleaved round(s); $(nproc) cores"
for ((run = 1; run <= RUNS; run++)); do
    echo "bench: round $run/$RUNS"
    for name in $ONLY; do scenario "$name" "$run"; done
done
kill -0 "$GW_PID" 2>/dev/null || die "the gateway died during the benchmark"

echo
printf '%-12s | %10s %10s %6s | %9s %9s | %8s %8s | %7s %7s\n' scenario "serambi/s" "nginx/s" ratio \
    "p99 ms S" "p99 ms N" "µs/req S" "µs/req N" "RSS S" "RSS N"
for name in $ONLY; do
    s="$name/serambi" n="$name/nginx"
    ratio=$(awk -v a="${RATE[$s]}" -v b="${RATE[$n]}" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
    printf '%-12s | %10s %10s %6s | %9s %9s | %8s %8s | %5s Mi %5s Mi\n' "$name" "${RATE[$s]}" "${RATE[$n]}" "$ratio" \
        "${P99[$s]}" "${P99[$n]}" "${CPU_US[$s]}" "${CPU_US[$n]}" "${RSS[$s]}" "${RSS[$n]}"
    echo "RESULT ${name}_rate=${RATE[$s]} ${name}_nginx_rate=${RATE[$n]} ${name}_ratio=$ratio ${name}_p99_ms=${P99[$s]} ${name}_cpu_us=${CPU_US[$s]} ${name}_nginx_cpu_us=${CPU_US[$n]} ${name}_rss_mib=${RSS[$s]} ${name}_nginx_rss_mib=${RSS[$n]}"
done
echo "RESULT serambi_rss_end_mib=$(( $(awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status") / 1024 ))"
