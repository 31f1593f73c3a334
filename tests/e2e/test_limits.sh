# Nobody can lock others out or pin the gateway's memory: sockets that never handshake take no
# slot, idle keep-alive connections make room for new ones, a trickled body ends, a chunk line
# cannot grow a buffer, unknown transfer codings are refused, TLS sessions are never resumed, and
# no key can leave in a core file.
source "$(dirname "$0")/lib.sh"
HOSTILE="python3 $(dirname "$0")/hostile_client.py --port $PORT"
init_deployment
set_config max_pending_handshakes_per_address 4
set_config io_timeout_seconds 2
set_config max_connections_per_principal 3
start_gateway
add_principal dinkes-malut producer
add_principal bi-malut partner
P=$WORK/dinkes-malut
Q=$WORK/bi-malut
"$SERAMBI" dataset create dinkes-malut/imunisasi --class biasa --title "Imunisasi" --profile "$ADMIN" >/dev/null
PUSH=/v1/datasets/dinkes-malut/imunisasi/packages

# ---- Sockets that never start a handshake, from another network.
$HOSTILE idle-sockets --source 127.0.1.2 --count 60 --hold 6 --ready "$WORK/idle.ready" > "$WORK/idle.out" &
HOLDER=$!
wait_for 30 test -e "$WORK/idle.ready"
check "while 60 sockets hold back their handshake, a client with a certificate still gets in" \
    api "$ADMIN" --fail -o /dev/null --max-time 5 "$URL/healthz"
check "and pushes" "$SERAMBI" push dinkes-malut/imunisasi /etc/hostname --profile "$P"
wait "$HOLDER"
check "the gateway kept at most 4 of them waiting (the per-network bound)" test "$(cat "$WORK/idle.out")" -le 4
METRICS=$(api "$ADMIN" "$URL/metrics")
check "/metrics counts the sockets closed before their handshake" \
    test "$(metric "$METRICS" serambi_connections_refused_total 'stage="handshake"')" -ge 50

# ---- The same from 40 networks, more than all the pending places (32): the oldest give way.
stop_gateway
set_config max_pending_handshakes 32
start_gateway
HOLDERS=()
for net in $(seq 10 49); do
    $HOSTILE idle-sockets --source "127.0.$net.1" --count 8 --hold 6 --ready "$WORK/idle-$net.ready" \
        --go "$WORK/idle.go" > "$WORK/idle-$net.out" &
    HOLDERS+=($!)
done
# Only once every flooder holds its sockets: a client arriving mid-flood may rightly be the
# oldest pending socket and give way, which says nothing about the bound. The flooders count the
# sockets kept all at once, after the last has connected: counted one by one as each finished,
# an early count saw sockets that later ones then pushed out.
all_flooders_ready() { [ "$(find "$WORK" -maxdepth 1 -name 'idle-*.ready' | wc -l)" -eq 40 ]; }
wait_for 120 all_flooders_ready
touch "$WORK/idle.go"  # every flooder counts what the gateway kept at the same moment
sleep 1
check "while 320 sockets from 40 networks hold back their handshake, a client still gets in" \
    api "$ADMIN" --fail -o /dev/null --max-time 5 "$URL/healthz"
wait "${HOLDERS[@]}"
same "at most 32 of them were kept waiting" 1 "$(cat "$WORK"/idle-*.out | awk '{s += $1} END {print (s <= 32)}')"

# ---- Idle authenticated connections: a principal's own cap makes room among its own.
read -r status closed <<<"$($HOSTILE idle-tls --profile "$P" --count 3)"
same "a fourth connection of a principal at its cap of 3 is served" "HTTP/1.1_200_OK" "$status"
same "by closing its own longest-idle connection" 1 "$closed"

# ---- The whole gateway full of idle connections: the next principal still gets in.
stop_gateway
set_config max_connections 3
start_gateway
read -r status closed <<<"$($HOSTILE idle-tls --profile "$P" --count 3 --extra-profile "$Q")"
same "with every slot held by idle connections, another principal is served" "HTTP/1.1_200_OK" "$status"
same "by closing one idle connection" 1 "$closed"
METRICS=$(api "$ADMIN" "$URL/metrics")
check "/metrics counts the connections closed to make room" test "$(metric_value "$METRICS" serambi_connections_evicted_total)" -ge 1
stop_gateway
set_config max_connections 1000
start_gateway

# ---- A push trickled at one byte a second, under the 2-second I/O timeout.
ELAPSED=$($HOSTILE trickle --profile "$P" --path "$PUSH" --interval 1 --limit 20)
check "a trickled body is cut within seconds, not kept alive by each byte (took $ELAPSED s)" \
    python3 -c "import sys; sys.exit(0 if sys.argv[1] != 'alive' and float(sys.argv[1]) < 8 else 1)" "$ELAPSED"
wait_for 3 grep -q "too slow" "$WORK/gateway.log"
contains "the log says why" "too slow" "$(grep 'body incomplete' "$WORK/gateway.log")"
same "nothing of it was kept" 1 "$(package_count "$P" dinkes-malut/imunisasi)"

# ---- A chunk line with an endless extension.
HWM_BEFORE=$(awk '/VmHWM/ {print $2}' "/proc/$GW_PID/status")
read -r status sent <<<"$($HOSTILE chunk-extension --profile "$P" --path "$PUSH" --megabytes 64)"
HWM_AFTER=$(awk '/VmHWM/ {print $2}' "/proc/$GW_PID/status")
check "a chunk extension is not buffered: peak memory grew by $(((HWM_AFTER - HWM_BEFORE) / 1024)) MiB after $((sent >> 20)) MiB sent" \
    test $((HWM_AFTER - HWM_BEFORE)) -lt $((24 * 1024))
check "the gateway stopped reading long before 64 MiB" test "$sent" -lt $((32 << 20))
contains "and answered 400" "400" "$status"

# ---- Transfer codings other than chunked: 400, and the body is not read as a second request.
STATUSES=$($HOSTILE raw --profile "$P" --data 'POST /v1/datasets HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: gzip\r\n\r\nGET /v1/whoami HTTP/1.1\r\nHost: g\r\n\r\n')
same "Transfer-Encoding: gzip is refused alone, its body never parsed as a request" "HTTP/1.1 400 Bad Request" "$STATUSES"
STATUSES=$($HOSTILE raw --profile "$P" --data 'POST /v1/datasets HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: identity\r\n\r\nGET /v1/whoami HTTP/1.1\r\nHost: g\r\n\r\n')
same "Transfer-Encoding: identity likewise" "HTTP/1.1 400 Bad Request" "$STATUSES"
STATUSES=$($HOSTILE raw --profile "$P" --data 'GET /v1/whoami HTTP/1.1\r\nHost: g\r\n\r\nGET /v1/whoami HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n')
same "pipelined ordinary requests are still both served" "HTTP/1.1 200 OK|HTTP/1.1 200 OK" "$STATUSES"

# ---- No TLS session is ever resumed (a resumed one presents no certificate to check).
for version in -tls1_3 -tls1_2; do
    OUT=$(openssl s_client -connect "127.0.0.1:$PORT" $version -reconnect -CAfile "$ADMIN/ca.crt" \
          -cert "$ADMIN/client.crt" -key "$ADMIN/client.key" </dev/null 2>&1)
    contains "openssl s_client $version connects" "New, TLSv1" "$OUT"
    same "and no reconnection resumes a session ($version)" 0 "$(grep -c '^Reused' <<<"$OUT")"
done

# ---- Keys cannot leave in a core dump.
contains "the gateway allows no core file" "Max core file size        0                    0" "$(cat "/proc/$GW_PID/limits")"
stop_gateway
# Run as an unprivileged user, so that /proc shows whether the process is dumpable: the files of
# a non-dumpable process belong to root whoever runs it.
chmod 755 "$WORK"
chown -R nobody:nogroup "$DEP"
setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$SERAMBI" serve --config "$DEP/serambi.toml" >>"$WORK/gateway.log" 2>&1 &
GW_PID=$!
wait_for 10 curl -s -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$ADMIN/client.crt" --key "$ADMIN/client.key" "$URL/healthz"
same "the gateway runs as the unprivileged user" nobody "$(ps -o user= -p "$GW_PID" | tr -d ' ')"
same "and is not dumpable (its /proc files belong to root)" root "$(stat -c %U "/proc/$GW_PID/status")"
finish
