#!/usr/bin/env bash
# Pulls of small packages, whose head and body leave the gateway in one write: every size around
# the one-record mark (16 KiB) and the kept-in-the-database mark (64 KiB) comes back whole, with
# its length and digest; several pulls share one keep-alive connection; a range of one is exact;
# and a client that stops reading holds only its own connection.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/gizi --class biasa --title Gizi --profile "$ADMIN" >/dev/null
mkdir -p "$WORK/src" "$WORK/got"

# 15,500 to 16,000: the head (some 600 to 800 bytes) and the body end on both sides of 16 KiB.
SIZES="1 3000 15500 15600 15700 15800 15900 16000 16500 65536 65537"
declare -A ID
for size in $SIZES; do
    head -c "$size" /dev/urandom >"$WORK/src/p$size.bin"
    ID[$size]=$("$SERAMBI" push dinkes-malut/gizi "$WORK/src/p$size.bin" -q --no-proof --profile "$P" | json_field package_id)
    check "package of $size bytes pushed" test -n "${ID[$size]}"
done

for size in $SIZES; do
    code=$(api "$P" -o "$WORK/got/p$size.bin" -D "$WORK/got/p$size.head" -w '%{http_code}' "$URL/v1/packages/${ID[$size]}")
    same "$size bytes: 200" 200 "$code"
    check "$size bytes: every byte back" cmp -s "$WORK/src/p$size.bin" "$WORK/got/p$size.bin"
    same "$size bytes: Content-Length" "$size" \
        "$(tr -d '\r' <"$WORK/got/p$size.head" | sed -n 's/^[Cc]ontent-[Ll]ength: //p')"
    same "$size bytes: Repr-Digest names the bytes" "sha-256=:$(openssl dgst -sha256 -binary "$WORK/src/p$size.bin" | base64 -w0):" \
        "$(tr -d '\r' <"$WORK/got/p$size.head" | sed -n 's/^[Rr]epr-[Dd]igest: //p')"
done

# All of them on one connection: each answer's framing is exact, or the next would be misread.
args=()
for size in $SIZES; do
    args+=(-o "$WORK/got/k$size.bin" "$URL/v1/packages/${ID[$size]}")
done
connects=$(api "$P" -w '%{num_connects}\n' "${args[@]}" | awk '{ n += $1 } END { print n }')
same "$(echo $SIZES | wc -w) pulls, one connection" 1 "$connects"
for size in $SIZES; do
    check "kept alive, $size bytes: every byte back" cmp -s "$WORK/src/p$size.bin" "$WORK/got/k$size.bin"
done

# A range inside a small package.
code=$(api "$P" -o "$WORK/got/range.bin" -w '%{http_code}' -H 'Range: bytes=100-2099' "$URL/v1/packages/${ID[3000]}")
same "a range of a small package: 206" 206 "$code"
check "the range's bytes exactly" cmp -s "$WORK/got/range.bin" <(tail -c +101 "$WORK/src/p3000.bin" | head -c 2000)

# A client that asks twenty times and never reads: its answers fill the socket and its connection
# waits, but no other.
python3 - "$PORT" "$P" "${ID[16500]}" <<'PY' &
import socket, ssl, sys, time
port, profile, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=profile + "/ca.crt")
ctx.load_cert_chain(profile + "/client.crt", profile + "/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
req = "GET /v1/packages/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % pid
for _ in range(20):
    s.sendall(req.encode())
time.sleep(4)
PY
SLOW=$!
sleep 1
code=$(api "$P" -o "$WORK/got/during.bin" -w '%{http_code}' "$URL/v1/packages/${ID[3000]}")
same "another client is answered meanwhile" 200 "$code"
check "whole" cmp -s "$WORK/src/p3000.bin" "$WORK/got/during.bin"
wait "$SLOW" 2>/dev/null

stop_gateway
finish
