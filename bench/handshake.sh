#!/usr/bin/env bash
# New mutual-TLS handshakes per second: serambi against nginx, in one run, on loopback.
# Both serve the same ECDSA P-256 certificate from a fresh deployment and require a client
# certificate from its CA; nginx with `ssl_verify_client on`, serambi with its own checks on top
# (issued directly by the issuing CA, not revoked). `openssl s_time -new` makes one full
# handshake per connection, with no request, for BENCH_SECONDS; runs alternate between the two.
#
# Environment:
#   SERAMBI_BIN    gateway/CLI binary (default: build/cli/serambi under the repository root)
#   BENCH_SECONDS  length of each measurement (default 10)
#   BENCH_RUNS     measurements of each, interleaved (default 3)
#   BENCH_DIR      where temporary files go (default /tmp/serambi-bench-hs); removed at the end
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERAMBI=${SERAMBI_BIN:-$ROOT/build/cli/serambi}
SECS=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
BASE=${BENCH_DIR:-/tmp/serambi-bench-hs}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer, not '$SECS'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$RUNS'"
[ -x "$SERAMBI" ] || die "no executable serambi binary at $SERAMBI (build it, or set SERAMBI_BIN)"
command -v nginx >/dev/null || die "nginx is missing; install it with: apt-get install -y nginx-light"
command -v openssl >/dev/null || die "openssl is missing"

make_work_dir run


DEP=$WORK/dep
GW_PORT=$(free_port)
"$SERAMBI" init "$DEP" --listen "127.0.0.1:$GW_PORT" >/dev/null
"$SERAMBI" serve --config "$DEP/serambi.toml" 2>"$WORK/gateway.log" &
GW_PID=$!
wait_port "$GW_PID" "$GW_PORT" "$WORK/gateway.log"

NGX=$WORK/nginx
mkdir -p "$NGX"/{logs,tmp}
NGX_PORT=$(free_port)
{
    [ "$(id -u)" -eq 0 ] && echo 'user root;'
    cat <<EOF
worker_processes auto;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $NGX/tmp;
    server {
        listen 127.0.0.1:$NGX_PORT ssl;
        ssl_certificate $DEP/pki/gateway.crt;
        ssl_certificate_key $DEP/pki/gateway.key;
        ssl_client_certificate $DEP/pki/ca.crt;
        ssl_verify_client on;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "ok\n"; }
    }
}
EOF
} >"$NGX/nginx.conf"
nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" 2>"$NGX/logs/stderr.log" &
NGX_PID=$!
wait_port "$NGX_PID" "$NGX_PORT" "$NGX/logs/error.log"

P=$DEP/profiles/admin
rate() { # PORT: full handshakes per wall-clock second
    local start end out n
    start=$(date +%s.%N)
    out=$(openssl s_time -connect "127.0.0.1:$1" -new -time "$SECS" -cert "$P/client.crt" -key "$P/client.key" \
        -CAfile "$P/ca.crt" -verify 1 2>&1) || die "s_time against port $1 failed: $(echo "$out" | tail -3)"
    end=$(date +%s.%N)
    n=$(echo "$out" | awk '/connections in .* real seconds/ {print $1; exit}')
    [ -n "$n" ] && [ "$n" -gt 0 ] || die "s_time made no connection to port $1"
    awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }'
}
# Sanity: both really demand the client certificate (a handshake without one is refused).
for port in "$GW_PORT" "$NGX_PORT"; do
    if echo | openssl s_client -connect "127.0.0.1:$port" -CAfile "$P/ca.crt" -verify_return_error -quiet 2>/dev/null |
        grep -q .; then
        die "127.0.0.1:$port answered a client without a certificate"
    fi
done

echo "bench: ${RUNS} x ${SECS} s of new mutual-TLS handshakes each, serambi and nginx interleaved"
declare -a S N
for ((r = 0; r < RUNS; r++)); do
    S+=("$(rate "$GW_PORT")")
    N+=("$(rate "$NGX_PORT")")
    echo "  run $((r + 1)): serambi ${S[r]}/s, nginx ${N[r]}/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
SM=$(median "${S[@]}") NM=$(median "${N[@]}")
RATIO=$(awk -v s="$SM" -v n="$NM" 'BEGIN { printf "%.2f", s / n }')
echo "median: serambi ${SM}/s, nginx ${NM}/s, serambi/nginx ${RATIO}x"
echo "RESULT handshakes_per_s_serambi=$SM"
echo "RESULT handshakes_per_s_nginx=$NM"
echo "RESULT handshakes_ratio=$RATIO"
