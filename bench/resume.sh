#!/usr/bin/env bash
# Transfers over a link that drops: a BENCH_MB upload with `serambi push` (a resumable upload)
# through tests/e2e/fault_proxy.py, cut every BENCH_CUT_MB, against the same upload through the
# same proxy uncut, and the same pair for `serambi pull`. Reports the bytes that crossed the link
# against the file's size (target: under 1.05x) and the wall times, interleaved over BENCH_RUNS
# rounds, then one "RESULT name=value" line per figure.
#
# Environment: SERAMBI_BIN (default build/cli/serambi), BENCH_MB (1024), BENCH_CUT_MB (100),
# BENCH_RUNS (2), BENCH_DIR (/tmp/serambi-bench-resume; removed at the end), BENCH_KEEP_LOG (copy
# the gateway's log there at the end).
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERAMBI=$(realpath "${SERAMBI_BIN:-$ROOT/build/cli/serambi}")
MB=${BENCH_MB:-1024}
CUT_MB=${BENCH_CUT_MB:-100}
RUNS=${BENCH_RUNS:-2}
BASE=${BENCH_DIR:-/tmp/serambi-bench-resume}
PROXY=$ROOT/tests/e2e/fault_proxy.py
die() { echo "bench: $*" >&2; exit 1; }
[[ $MB =~ ^[1-9][0-9]*$ && $CUT_MB =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_MB, BENCH_CUT_MB and BENCH_RUNS are positive integers"
[ -x "$SERAMBI" ] || die "no serambi binary at $SERAMBI"
command -v python3 >/dev/null || die "python3 is missing"
mkdir -p "$BASE"
need_kb=$(((4 * RUNS + 3) * MB * 1024 * 105 / 100))
avail_kb=$(df -Pk "$BASE" | awk 'NR == 2 {print $4}')
((avail_kb >= need_kb)) || die "needs $((need_kb / 1024)) MiB free under $BASE"
WORK=$(mktemp -d "$BASE/run.XXXXXX")
GW_PID='' PX_PID=''
cleanup() {
    set +e
    [ -n "$PX_PID" ] && kill "$PX_PID" 2>/dev/null && wait "$PX_PID" 2>/dev/null
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null
    [ -n "${BENCH_KEEP_LOG:-}" ] && cp "$WORK/gateway.log" "$BENCH_KEEP_LOG"
    rm -rf "$WORK"; rmdir "$BASE" 2>/dev/null
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PORT=$(port)
"$SERAMBI" init "$WORK/dep" --listen "127.0.0.1:$PORT" >/dev/null 2>&1 || die "init failed"
ADMIN=$WORK/dep/profiles/admin
"$SERAMBI" serve --config "$WORK/dep/serambi.toml" >"$WORK/gateway.log" 2>&1 &
GW_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$ADMIN/client.crt" --key "$ADMIN/client.key" "https://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
"$SERAMBI" principal add bench-opd --role producer --name Bench --out "$WORK/p" --profile "$ADMIN" >/dev/null 2>&1
"$SERAMBI" principal add bench-wali --role custodian --name Wali --out "$WORK/c" --profile "$ADMIN" >/dev/null 2>&1
"$SERAMBI" dataset create bench-opd/data --class terbatas --title Bench --profile "$WORK/c" >/dev/null
PAYLOAD=$WORK/payload.bin
head -c $((MB * 1024 * 1024)) /dev/urandom >"$PAYLOAD"
SIZE=$(stat -c %s "$PAYLOAD")

# proxy ARGS...: a fresh proxy (fresh counters) on a new port; prints its port
proxy() {
    [ -n "$PX_PID" ] && { kill "$PX_PID" 2>/dev/null; wait "$PX_PID" 2>/dev/null || true; }
    PP=$(port)
    python3 "$PROXY" "$PP" "$PORT" --stats "$WORK/proxy.json" "$@" >/dev/null 2>&1 &
    PX_PID=$!
    for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $PP)).close()" 2>/dev/null && break; sleep 0.1; done
    rm -rf "$WORK/via"; cp -a "$WORK/p" "$WORK/via"
    sed -i "s|127.0.0.1:$PORT|127.0.0.1:$PP|" "$WORK/via/profile.toml"
}
stat_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$WORK/proxy.json" "$1"; }
now() { date +%s.%N; }
declare -A T B
record() { # NAME SECONDS BYTES
    T[$1]="${T[$1]:-} $2"; B[$1]="${B[$1]:-} $3"
}
cuts=$(((MB - 1) / CUT_MB))
ID=''
for ((run = 1; run <= RUNS; run++)); do
    for mode in uncut cut; do
        if [ "$mode" = cut ]; then proxy --cut-up $((CUT_MB * 1024 * 1024)) --cuts "$cuts"; else proxy; fi
        t0=$(now)
        "$SERAMBI" push bench-opd/data "$PAYLOAD" -q --allow-duplicate --profile "$WORK/via" >"$WORK/receipt.json" 2>"$WORK/push.err" || { cat "$WORK/push.err"; die "push ($mode) failed"; }
        t1=$(now)
        sleep 0.3  # the proxy writes its totals when the last connection closes
        record "push_$mode" "$(awk "BEGIN {print $t1 - $t0}")" "$(stat_of up)"
        [ "$mode" = cut ] && [ "$(stat_of cuts)" != "$cuts" ] && die "the proxy cut $(stat_of cuts) times, not $cuts"
        ID=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["package_id"])' <"$WORK/receipt.json")
    done
    for mode in uncut cut; do
        if [ "$mode" = cut ]; then proxy --cut-down $((CUT_MB * 1024 * 1024)) --cuts "$cuts"; else proxy; fi
        rm -f "$WORK/pulled.bin"
        t0=$(now)
        "$SERAMBI" pull "$ID" -o "$WORK/pulled.bin" -q --no-manifest --profile "$WORK/via" >/dev/null 2>"$WORK/pull.err" || { cat "$WORK/pull.err"; die "pull ($mode) failed"; }
        t1=$(now)
        sleep 0.3
        record "pull_$mode" "$(awk "BEGIN {print $t1 - $t0}")" "$(stat_of down)"
        cmp -s "$WORK/pulled.bin" "$PAYLOAD" || die "pull ($mode) wrote other bytes"
    done
done
echo "payload $MB MiB, cut every $CUT_MB MiB ($cuts cuts), $RUNS rounds, through tests/e2e/fault_proxy.py"
for name in push_uncut push_cut pull_uncut pull_cut; do
    read -r best worst < <(echo ${T[$name]} | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print a[1], a[NR]}')
    bytes=$(echo ${B[$name]} | tr ' ' '\n' | sort -g | tail -1)
    ratio=$(python3 -c "print(f'{$bytes / $SIZE:.3f}')")
    printf '%-11s best %7.2f s  worst %7.2f s  bytes over the link %6sx the file (worst round)\n' "$name" "$best" "$worst" "$ratio"
    echo "RESULT ${name}_seconds=$best"
    echo "RESULT ${name}_bytes_ratio=$ratio"
done
