#!/usr/bin/env bash
# A 1 GiB push and pull through the Serambi gateway against the same file PUT and GET with curl
# against nginx over TLS 1.3, in one run, on loopback. Prints each throughput, the ratios and the
# gateway's peak RSS. Sizes and repetitions: BENCH_MB (default 1024), BENCH_RUNS (default 3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERAMBI=$(realpath "${SERAMBI_BIN:-$ROOT/build/cli/serambi}")
MB=${BENCH_MB:-1024}
RUNS=${BENCH_RUNS:-3}
DIR=${BENCH_DIR:-/tmp/serambi-bench}
command -v nginx >/dev/null || { echo "nginx is missing: apt-get install -y nginx-light"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rm -rf "$DIR"; mkdir -p "$DIR"/{nginx/root,nginx/tmp,nginx/logs}
GW_PID= NGX_PID=
cleanup() {
    [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null
    [ -n "$NGX_PID" ] && kill "$NGX_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened"; exit 1; }

echo "Preparing a ${MB} MiB random file ..."
head -c $((MB << 20)) /dev/urandom > "$DIR/payload.bin"
SUM=$(sha256sum "$DIR/payload.bin" | cut -d' ' -f1)

# nginx: TLS 1.3 only, ECDSA P-256, WebDAV PUT, the same loopback.
NGX_PORT=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$DIR/nginx/key.pem" -out "$DIR/nginx/cert.pem" 2>/dev/null
cat > "$DIR/nginx/nginx.conf" <<EOT
user root;
worker_processes 2;
daemon off;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx/tmp;
  client_max_body_size 0;
  sendfile on;
  server {
    listen 127.0.0.1:$NGX_PORT ssl;
    ssl_certificate $DIR/nginx/cert.pem;
    ssl_certificate_key $DIR/nginx/key.pem;
    ssl_protocols TLSv1.3;
    root $DIR/nginx/root;
    location / { dav_methods PUT; create_full_put_path on; }
  }
}
EOT
nginx -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" &
NGX_PID=$!
wait_port "$NGX_PORT"

# Serambi: a fresh deployment, a producer and a dataset.
GW_PORT=$(free_port)
"$SERAMBI" init "$DIR/dep" --listen "127.0.0.1:$GW_PORT" >/dev/null
"$SERAMBI" serve --config "$DIR/dep/serambi.toml" 2>"$DIR/gateway.log" &
GW_PID=$!
wait_port "$GW_PORT"
ADMIN=$DIR/dep/profiles/admin
P=$DIR/producer
"$SERAMBI" principal add bench-opd --role producer --name "Bench OPD" --out "$P" --profile "$ADMIN" >/dev/null 2>&1
"$SERAMBI" dataset create bench-opd/data --class terbatas --title Bench --profile "$ADMIN" >/dev/null
GW=https://127.0.0.1:$GW_PORT
CURL_GW=(curl -sS --fail --tlsv1.3 --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")
CURL_NGX=(curl -sS --fail --tlsv1.3 --cacert "$DIR/nginx/cert.pem")

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>"$DIR/last.err" || { cat "$DIR/last.err" >&2; exit 1; }; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
declare -A TIMES
record() { TIMES[$1]="${TIMES[$1]:-} $2"; }

for run in $(seq 1 "$RUNS"); do
    echo "run $run/$RUNS"
    rm -f "$DIR"/nginx/root/*
    record "nginx PUT (curl)" "$(seconds "${CURL_NGX[@]}" -T "$DIR/payload.bin" "https://127.0.0.1:$NGX_PORT/payload.bin")"
    record "serambi push (curl)" "$(seconds "${CURL_GW[@]}" -H 'Serambi-Filename: payload.bin' -T "$DIR/payload.bin" -X POST -o "$DIR/receipt.json" "$GW/v1/datasets/bench-opd/data/packages")"
    ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["package_id"])' "$DIR/receipt.json")
    record "nginx GET (curl)" "$(seconds "${CURL_NGX[@]}" -o /dev/null "https://127.0.0.1:$NGX_PORT/payload.bin")"
    record "serambi pull (curl)" "$(seconds "${CURL_GW[@]}" -o /dev/null "$GW/v1/packages/$ID")"
    record "serambi push (CLI)" "$(seconds "$SERAMBI" push bench-opd/data "$DIR/payload.bin" -q --profile "$P")"
    record "serambi pull (CLI, verified)" "$(seconds "$SERAMBI" pull "$ID" -o "$DIR/pulled.bin" -q --no-manifest --profile "$P")"
    [ "$(sha256sum "$DIR/pulled.bin" | cut -d' ' -f1)" = "$SUM" ] || { echo "pulled file differs"; exit 1; }
    rm -f "$DIR/pulled.bin"
    # Each blob is MB MiB: keep the disk from filling across runs.
    find "$DIR/dep/blobs" -name '*.blob' ! -name "$ID.blob" -delete 2>/dev/null || true
done
[ "$("${CURL_NGX[@]}" "https://127.0.0.1:$NGX_PORT/payload.bin" | sha256sum | cut -d' ' -f1)" = "$SUM" ] || { echo "nginx returned other bytes"; exit 1; }
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$GW_PID/status")

stats() { echo "$1" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)]}'; }
printf '\n%-30s %9s %9s %12s\n' "what (${MB} MiB, ${RUNS} runs)" "best s" "median s" "MB/s (best)"
declare -A BEST
for k in "nginx PUT (curl)" "serambi push (curl)" "serambi push (CLI)" "nginx GET (curl)" "serambi pull (curl)" "serambi pull (CLI, verified)"; do
    read -r best median <<<"$(stats "${TIMES[$k]}")"
    BEST[$k]=$best
    printf '%-30s %9.2f %9.2f %12.0f\n' "$k" "$best" "$median" "$(echo "$MB * 1.048576 / $best" | bc -l)"
done
ratio() { echo "${BEST[$2]} / ${BEST[$1]}" | bc -l; }
printf '\npush/PUT ratio (curl): %.2fx  (target >= 0.7x)\n' "$(ratio "serambi push (curl)" "nginx PUT (curl)")"
printf 'pull/GET ratio (curl): %.2fx  (target >= 0.7x)\n' "$(ratio "serambi pull (curl)" "nginx GET (curl)")"
printf 'gateway peak RSS: %.1f MiB  (target < 64 MiB)\n' "$(echo "$RSS_KB / 1024" | bc -l)"
printf 'RESULT push_ratio=%.3f pull_ratio=%.3f rss_mib=%.1f\n' "$(ratio "serambi push (curl)" "nginx PUT (curl)")" \
    "$(ratio "serambi pull (curl)" "nginx GET (curl)")" "$(echo "$RSS_KB / 1024" | bc -l)"
