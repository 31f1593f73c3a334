#!/usr/bin/env bash
# Serambi against nginx, in one run, on loopback, over TLS 1.3:
#   nginx  PUT and GET of a file with curl (WebDAV PUT, ECDSA P-256 certificate),
#   serambi push and pull of the same file with curl (same flags) and with the serambi CLI.
# Prints best and median time and throughput of each, the serambi/nginx ratios and the gateway's
# peak RSS (VmHWM), then one machine-readable "RESULT name=value" line per figure.
#
# Environment:
#   SERAMBI_BIN  gateway/CLI binary (default: build/cli/serambi under the repository root)
#   BENCH_MB     payload size in MiB (default 1024)
#   BENCH_RUNS   repetitions of every measurement, interleaved (default 3)
#   BENCH_WARMUP untimed rounds of all transfers before the timed ones (default 1)
#   BENCH_DIR    where temporary data goes (default /tmp/serambi-bench); removed at the end
#   BENCH_KEEP_LOG  if set, the gateway's log is copied to this file at the end
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERAMBI=${SERAMBI_BIN:-$ROOT/build/cli/serambi}
MB=${BENCH_MB:-1024}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-1}
BASE=${BENCH_DIR:-/tmp/serambi-bench}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"


# ---------------------------------------------------------------- prerequisites
[[ $MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_MB must be a positive integer (MiB), not '$MB'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer >= 0, not '$WARMUP'"
[ -x "$SERAMBI" ] || die "no executable serambi binary at $SERAMBI (build it, or set SERAMBI_BIN)"
SERAMBI=$(realpath "$SERAMBI")
for tool in curl openssl awk sha256sum cmp timeout; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
if ! command -v nginx >/dev/null; then
    die "nginx is missing; install it with: apt-get install -y nginx-light"
fi
if ! nginx -V 2>&1 | grep -q -- '--with-http_dav_module'; then
    die "this nginx has no WebDAV module (needed for PUT); install one that has: apt-get install -y nginx-light (or nginx-core)"
fi

# Every blob is about MB MiB and the gateway has no delete: the payload, nginx's copy, a pulled
# file and two packages per round must fit, with a little slack.
mkdir -p "$BASE"
need_kb=$(( (2 * (WARMUP + RUNS) + 3) * MB * 1024 * 105 / 100 ))
avail_kb=$(df -Pk "$BASE" | awk 'NR == 2 {print $4}')
(( avail_kb >= need_kb )) || die "needs $((need_kb / 1024)) MiB free under $BASE, has $((avail_kb / 1024)) MiB"

make_work_dir run


# ---------------------------------------------------------------- payload
echo "bench: ${MB} MiB random payload, ${RUNS} run(s), work dir $WORK"
PAYLOAD=$WORK/payload.bin
head -c $((MB << 20)) /dev/urandom >"$PAYLOAD"
sync "$PAYLOAD"
SUM=$(sha256sum "$PAYLOAD" | cut -d' ' -f1)
BYTES=$((MB << 20))
MAXT=$((120 + MB))   # every single transfer must finish within this many seconds (>= ~1 MB/s)

# ---------------------------------------------------------------- nginx
NGX=$WORK/nginx
start_nginx_webdav "$NGX"

# ---------------------------------------------------------------- serambi gateway
DEP=$WORK/dep
GW_PORT=$(free_port)
"$SERAMBI" init "$DEP" --listen "127.0.0.1:$GW_PORT" >/dev/null
GW_LOG=$WORK/gateway.log
# A plain background command: bash execs the binary itself, so $! is the real `serambi serve`.
"$SERAMBI" serve --config "$DEP/serambi.toml" 2>"$GW_LOG" &
GW_PID=$!
for ((i = 0; i < 150; i++)); do
    kill -0 "$GW_PID" 2>/dev/null || { cat "$GW_LOG" >&2; die "the gateway exited at start"; }
    grep -q listening "$GW_LOG" && break
    sleep 0.1
done
grep -q listening "$GW_LOG" || { cat "$GW_LOG" >&2; die "the gateway did not report listening in 15 s"; }
# No bare TCP probe here: the gateway would log it as a refused handshake.
[ "$(readlink "/proc/$GW_PID/exe")" = "$SERAMBI" ] || die "PID $GW_PID is not the serambi binary"
RSS_IDLE_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$GW_PID/status")

ADMIN=$DEP/profiles/admin
P=$WORK/producer
"$SERAMBI" principal add bench-opd --role producer --name "Bench OPD" --out "$P" --profile "$ADMIN" \
    >/dev/null 2>"$WORK/principal.err" || { cat "$WORK/principal.err" >&2; die "principal add failed"; }
"$SERAMBI" dataset create bench-opd/data --class biasa --title Bench --profile "$ADMIN" >/dev/null
GW=https://127.0.0.1:$GW_PORT
NG=https://127.0.0.1:$NGX_PORT
CURL=(curl -sS --fail --http1.1 --tlsv1.3 --max-time "$MAXT")
CURL_GW=("${CURL[@]}" --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")
CURL_NG=("${CURL[@]}" --cacert "$NGX/cert.pem")

tls_of() { "$@" -v -o /dev/null 2>&1 | sed -n 's/^\* SSL connection using //p' | head -1; }
TLS_NG=$(tls_of curl -sS --http1.1 --tlsv1.3 --cacert "$NGX/cert.pem" "$NG/")
TLS_GW=$(tls_of "${CURL_GW[@]}" "$GW/v1/whoami")
[ -n "$TLS_GW" ] || die "could not reach the gateway on $GW with the producer's profile"

# ---------------------------------------------------------------- measurements
# CPU time says where a ratio comes from: on 2 cores the client, the server and the disk share
# the machine, and work one server does that the other does not (hashing, sealing) shows here.
TICK=$(getconf CLK_TCK)
children_cpu() { # user + system seconds of this shell's finished children, from `times`
    # `times` runs in this shell (a pipe or $(...) would ask a fresh subshell, whose count is 0).
    times >"$WORK/times"
    awk 'NR == 2 {
        split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2]
    }' "$WORK/times"
}
NGX_PIDS="$NGX_PID $(children_of "$NGX_PID" | tr '\n' ' ')"
declare -A TIMES=() SERVER_CPU=() CLIENT_CPU=()
LAST_OUT=$WORK/last.out
RECORD=0
timed() { # NAME SERVER_PIDS COMMAND...: runs COMMAND (stdout to $LAST_OUT); records its wall time
          # in TIMES[NAME], the CPU time of SERVER_PIDS and of COMMAND in SERVER_CPU and CLIENT_CPU
    local name=$1 pids=$2 t0 t1 t s0 s1 c0 c1 server client
    shift 2
    s0=$(cpu_ticks $pids)
    children_cpu >"$WORK/cpu0"
    t0=$EPOCHREALTIME
    "$@" >"$LAST_OUT" 2>"$WORK/last.err" || { cat "$WORK/last.err" >&2; die "$name failed"; }
    t1=$EPOCHREALTIME
    children_cpu >"$WORK/cpu1"
    c0=$(<"$WORK/cpu0")
    c1=$(<"$WORK/cpu1")
    s1=$(cpu_ticks $pids)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')
    server=$(awk -v a="$s0" -v b="$s1" -v k="$TICK" 'BEGIN {printf "%.2f", (b - a) / k}')
    client=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')
    if ((RECORD)); then
        TIMES[$name]+=" $t"
        SERVER_CPU[$name]+=" $server"
        CLIENT_CPU[$name]+=" $client"
    fi
    printf '  %-22s %8.3f s   server CPU %5.2f s   client CPU %5.2f s\n' "$name" "$t" "$server" "$client"
}
json_str() { grep -o "\"$1\":\"[^\"]*\"" "$2" | head -1 | cut -d'"' -f4; }
check_receipt() { # WHAT FILE: the gateway's digest and size of what it stored must be the payload's
    local id
    id=$(json_str package_id "$2")
    [ -n "$id" ] || die "$1: no package_id in the receipt: $(head -c 300 "$2")"
    [ "$(json_str sha256 "$2")" = "$SUM" ] || die "$1: the gateway stored other bytes (sha256 differs)"
    grep -q "\"size\":${BYTES}[,}]" "$2" || die "$1: the gateway stored another size"
    echo "$id"
}

nginx_put() {
    rm -f "$NGX/root/payload.bin"
    timed "nginx PUT (curl)" "$NGX_PIDS" "${CURL_NG[@]}" -T "$PAYLOAD" "$NG/payload.bin"
    # nginx does not fsync; flush its copy outside the timing so the next measurement
    # does not pay for nginx's write-back.
    sync "$NGX/root/payload.bin"
}
serambi_push_curl() {
    timed "serambi push (curl)" "$GW_PID" "${CURL_GW[@]}" -H 'Serambi-Filename: payload.bin' -T "$PAYLOAD" -X POST \
        "$GW/v1/datasets/bench-opd/data/packages"
    ID_CURL=$(check_receipt "serambi push (curl)" "$LAST_OUT")
}
nginx_get() { timed "nginx GET (curl)" "$NGX_PIDS" "${CURL_NG[@]}" -o /dev/null "$NG/payload.bin"; }
serambi_pull_curl() { timed "serambi pull (curl)" "$GW_PID" "${CURL_GW[@]}" -o /dev/null "$GW/v1/packages/$ID_CURL"; }

# Pulls go to /dev/null, like curl's: the CLI still hashes the stream and checks the digest and
# the signed manifest, but the figure is not about the page cache filling a 1 GiB file.
serambi_push_cli() {
    timed "serambi push (CLI)" "$GW_PID" timeout "$MAXT" "$SERAMBI" push bench-opd/data "$PAYLOAD" -q --allow-duplicate --profile "$P"
    ID_CLI=$(check_receipt "serambi push (CLI)" "$LAST_OUT")
}
serambi_pull_cli() {
    timed "serambi pull (CLI)" "$GW_PID" timeout "$MAXT" "$SERAMBI" pull "$ID_CLI" -o /dev/null -q --no-manifest --profile "$P"
}

for ((run = 1 - WARMUP; run <= RUNS; run++)); do
    if ((run < 1)); then echo "bench: warm-up (not counted)"; RECORD=0; else echo "bench: run $run/$RUNS"; RECORD=1; fi
    # Alternate who goes first so that drift (page cache, write-back, neighbours) hits both alike.
    if ((run % 2)); then nginx_put; serambi_push_curl; else serambi_push_curl; nginx_put; fi
    serambi_push_cli
    if ((run % 2)); then nginx_get; serambi_pull_curl; else serambi_pull_curl; nginx_get; fi
    serambi_pull_cli
done

# Untimed, once per path: every transfer must have moved exactly the payload.
cmp -s "$NGX/root/payload.bin" "$PAYLOAD" || die "nginx stored other bytes than were PUT"
[ "$("${CURL_NG[@]}" "$NG/payload.bin" | sha256sum | cut -d' ' -f1)" = "$SUM" ] ||
    die "nginx GET returned other bytes"
[ "$("${CURL_GW[@]}" "$GW/v1/packages/$ID_CURL" | sha256sum | cut -d' ' -f1)" = "$SUM" ] ||
    die "serambi pull (curl) returned other bytes"
timeout "$MAXT" "$SERAMBI" pull "$ID_CLI" -o "$WORK/pulled.bin" -q --no-manifest --profile "$P" >/dev/null 2>&1 ||
    die "serambi pull (CLI) to a file failed"
cmp -s "$WORK/pulled.bin" "$PAYLOAD" || die "serambi pull (CLI) wrote other bytes than were pushed"
rm -f "$WORK/pulled.bin"

kill -0 "$GW_PID" 2>/dev/null || die "the gateway died during the benchmark"
RSS_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$GW_PID/status")
GW_RC=0
stop "$GW_PID" || GW_RC=$?
GW_PID=''
stop "$NGX_PID" || true
NGX_PID=''

# ---------------------------------------------------------------- report
stats() { # "t1 t2 ...": prints best and median
    tr ' ' '\n' <<<"$1" | grep . | sort -g |
        awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print a[1], m}'
}
calc() { awk "BEGIN {printf \"$1\", $2}"; }
declare -A BEST=() MBPS=()
ORDER=("nginx PUT (curl)" "serambi push (curl)" "serambi push (CLI)"
       "nginx GET (curl)" "serambi pull (curl)" "serambi pull (CLI)")

echo
echo "Serambi vs nginx: ${MB} MiB payload, best and median of ${RUNS} interleaved run(s) after ${WARMUP} warm-up, 127.0.0.1, HTTP/1.1"
echo "  nginx   $(nginx -v 2>&1 | sed 's/.*version: //'): ${TLS_NG:-?}"
echo "  serambi $SERAMBI: ${TLS_GW:-?}"
echo "  MB/s = 10^6 bytes per second, over the whole command (process start, handshake, transfer)"
echo
printf '%-22s | %8s | %8s | %11s | %12s | %12s\n' "what" "best s" "median s" "MB/s (best)" "server CPU s" "client CPU s"
printf '%s\n' "-----------------------+----------+----------+-------------+--------------+-------------"
declare -A SERVER_CPU_MEDIAN=() CLIENT_CPU_MEDIAN=()
for k in "${ORDER[@]}"; do
    read -r best median <<<"$(stats "${TIMES[$k]}")"
    read -r _ server_cpu <<<"$(stats "${SERVER_CPU[$k]}")"
    read -r _ client_cpu <<<"$(stats "${CLIENT_CPU[$k]}")"
    BEST[$k]=$best
    SERVER_CPU_MEDIAN[$k]=$server_cpu
    CLIENT_CPU_MEDIAN[$k]=$client_cpu
    MBPS[$k]=$(calc '%.0f' "$BYTES / 1e6 / $best")
    printf '%-22s | %8.3f | %8.3f | %11s | %12.2f | %12.2f\n' "$k" "$best" "$median" "${MBPS[$k]}" "$server_cpu" "$client_cpu"
done
echo "  CPU: medians, in seconds of one core; the machine has $(nproc) core(s)"

ratio() { calc '%.2f' "${BEST[$2]} / ${BEST[$1]}"; }   # time(nginx)/time(serambi) = speed ratio
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {ok = (op == ">=") ? v >= t : v < t; print ok ? "met" : "NOT met"}'; }
PUSH_R=$(ratio "serambi push (curl)" "nginx PUT (curl)")
PULL_R=$(ratio "serambi pull (curl)" "nginx GET (curl)")
PUSH_CLI_R=$(ratio "serambi push (CLI)" "nginx PUT (curl)")
PULL_CLI_R=$(ratio "serambi pull (CLI)" "nginx GET (curl)")
RSS_MIB=$(calc '%.1f' "$RSS_KB / 1024")
RSS_IDLE_MIB=$(calc '%.1f' "$RSS_IDLE_KB / 1024")

echo
echo "push/PUT ratio: ${PUSH_R}x  (target >= 0.7x: $(verdict "$PUSH_R" 0.7 '>='))   [curl vs curl]"
echo "pull/GET ratio: ${PULL_R}x  (target >= 0.7x: $(verdict "$PULL_R" 0.7 '>='))   [curl vs curl]"
echo "CLI push/PUT:   ${PUSH_CLI_R}x  CLI pull/GET: ${PULL_CLI_R}x   [informational]"
echo "gateway peak RSS: ${RSS_MIB} MiB  (target < 64 MiB: $(verdict "$RSS_MIB" 64 '<'))   [VmHWM; ${RSS_IDLE_MIB} MiB right after start]"

# Anything in the gateway's log other than the start line and successful requests.
NOTES=$(grep -v -E ' listening on | request [0-9a-f]+ .* 2[0-9][0-9] in=| stopping$' "$GW_LOG" || true)
[ "$GW_RC" -eq 0 ] || echo "WARNING: the gateway exited with status $GW_RC on SIGTERM"
if [ -n "$NOTES" ]; then
    echo "WARNING: $(wc -l <<<"$NOTES") unexpected gateway log line(s), first ones:"
    head -5 <<<"$NOTES" | sed 's/^/  /'
fi

echo
echo "RESULT nginx_put_mbps=${MBPS["nginx PUT (curl)"]}"
echo "RESULT push_curl_mbps=${MBPS["serambi push (curl)"]}"
echo "RESULT push_cli_mbps=${MBPS["serambi push (CLI)"]}"
echo "RESULT nginx_get_mbps=${MBPS["nginx GET (curl)"]}"
echo "RESULT pull_curl_mbps=${MBPS["serambi pull (curl)"]}"
echo "RESULT pull_cli_mbps=${MBPS["serambi pull (CLI)"]}"
echo "RESULT push_ratio=$PUSH_R"
echo "RESULT pull_ratio=$PULL_R"
echo "RESULT push_cli_ratio=$PUSH_CLI_R"
echo "RESULT pull_cli_ratio=$PULL_CLI_R"
for k in "${ORDER[@]}"; do
    key=$(tr 'A-Z' 'a-z' <<<"$k" | tr -c 'a-z0-9\n' '_' | sed 's/_*$//; s/__*/_/g')
    echo "RESULT ${key}_server_cpu_s=${SERVER_CPU_MEDIAN[$k]}"
    echo "RESULT ${key}_client_cpu_s=${CLIENT_CPU_MEDIAN[$k]}"
done
echo "RESULT gateway_peak_rss_mib=$RSS_MIB"
echo "RESULT gateway_exit_status=$GW_RC"
