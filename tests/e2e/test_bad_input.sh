# Bad input of every kind gets a clear 4xx problem+json and changes nothing.
source "$(dirname "$0")/lib.sh"
init_deployment
set_config max_package_bytes 1048576
set_config max_header_bytes 8192
set_config io_timeout_seconds 2
start_gateway
add_principal dinkes-malut producer
add_principal walidata custodian
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/imunisasi --class terbatas --title "Imunisasi" --profile "$ADMIN" >/dev/null
echo "nik,vaksin" > "$WORK/a.csv"
"$SERAMBI" push dinkes-malut/imunisasi "$WORK/a.csv" --profile "$P" >/dev/null
BASE_PACKAGES=$(package_count "$P" dinkes-malut/imunisasi)
BASE_BLOBS=$(blob_count)
POST=(-H 'Serambi-Filename: a.csv' --data-binary @"$WORK/a.csv")

unchanged() {
    same "$1: no package was added" "$BASE_PACKAGES" "$(package_count "$P" dinkes-malut/imunisasi)"
    same "$1: no blob was left on disk" "$BASE_BLOBS" "$(blob_count)"
    same "$1: no temporary file was left" 0 "$(find "$DEP/blobs/tmp" -type f | wc -l)"
}
problem() { # DESCRIPTION STATUS CURL-ARGS...
    local what=$1 want=$2; shift 2
    same "$what is $want" "$want" "$(status "$P" "$@")"
    contains "$what answers problem+json with a request id" '"request_id"' "$(cat "$WORK/last_body")"
}

problem "an unknown dataset" 404 "${POST[@]}" "$URL/v1/datasets/dinkes-malut/nothing/packages"
problem "an upper-case dataset name" 400 "${POST[@]}" "$URL/v1/datasets/Dinkes/imunisasi/packages"
problem "a path with .." 400 --path-as-is "${POST[@]}" "$URL/v1/datasets/dinkes-malut/../imunisasi/packages"
problem "a percent-encoded path" 400 "${POST[@]}" "$URL/v1/datasets/dinkes-malut/%2e%2e/packages"
for name in '../../etc/passwd' 'sub/dir.csv' '.bashrc' 'a\b.csv'; do
    problem "the filename '$name'" 400 -H "Serambi-Filename: $name" --data-binary @"$WORK/a.csv" "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
done
problem "a filename with a control character" 400 -H $'Serambi-Filename: a\x01b.csv' --data-binary @"$WORK/a.csv" "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
problem "a missing filename" 400 --data-binary @"$WORK/a.csv" "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
problem "an unknown classification" 400 -H 'Serambi-Classification: top-secret' "${POST[@]}" "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
problem "a classification below the dataset's" 400 -H 'Serambi-Classification: biasa' "${POST[@]}" "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
problem "a malformed media type" 400 -H 'Content-Type: csv' "${POST[@]}" "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
unchanged "refused headers"

head -c 2000000 /dev/urandom > "$WORK/big.bin"
problem "a body over max_package_bytes (with Expect: 100-continue)" 413 -H 'Serambi-Filename: big.bin' -T "$WORK/big.bin" -X POST "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
problem "a body over max_package_bytes (without Expect)" 413 -H 'Expect:' -H 'Serambi-Filename: big.bin' -T "$WORK/big.bin" -X POST "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
problem "a chunked body over the limit" 413 -H 'Expect:' -H 'Transfer-Encoding: chunked' -H 'Serambi-Filename: big.bin' -T "$WORK/big.bin" -X POST "$URL/v1/datasets/dinkes-malut/imunisasi/packages"
refuse "the CLI reports the refused oversized push" "$SERAMBI" push dinkes-malut/imunisasi "$WORK/big.bin" --profile "$P"
unchanged "oversized bodies"

problem "a header block over max_header_bytes" 431 -H "X-Filler: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL/v1/datasets"
same "an oversized JSON body is 413" 413 "$(status "$ADMIN" -H 'Content-Type: application/json' --data-binary @"$WORK/big.bin" "$URL/v1/datasets")"

raw() { # send raw bytes over TLS with the producer's certificate, print the reply
    timeout 20 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$PORT" -cert "$P/client.crt" -key "$P/client.key" -CAfile "$P/ca.crt" 2>/dev/null
}
same "HEAD is not served" 405 "$(status "$P" -I "$URL/v1/datasets")"
contains "malformed HTTP gets 400" "400 Bad Request" "$( (printf 'GARBAGE\r\n\r\n'; sleep 1) | raw)"
contains "a bad Content-Length gets 400" "400 Bad Request" "$( (printf 'POST /v1/datasets/dinkes-malut/imunisasi/packages HTTP/1.1\r\nHost: x\r\nSerambi-Filename: a.csv\r\nContent-Length: -5\r\n\r\n'; sleep 1) | raw)"

# A truncated upload: the client announces 100000 bytes, sends 10 and goes away.
(printf 'POST /v1/datasets/dinkes-malut/imunisasi/packages HTTP/1.1\r\nHost: x\r\nSerambi-Filename: t.csv\r\nContent-Length: 100000\r\n\r\n0123456789'; sleep 1) | raw >/dev/null
logged() { [ "$(grep -c 'body incomplete' "$WORK/gateway.log")" -ge "$1" ]; }
check "the gateway logs the truncated upload" wait_for 5 logged 1
# A stalled upload: part of the body, then silence; io_timeout (2 s) must end it, not the client.
(printf 'POST /v1/datasets/dinkes-malut/imunisasi/packages HTTP/1.1\r\nHost: x\r\nSerambi-Filename: s.csv\r\nContent-Length: 100000\r\n\r\n0123456789'; sleep 10) | raw >/dev/null &
STALLED=$!
# The client keeps the connection open for 10 s; only the gateway's deadline can end it sooner.
check "the gateway drops a stalled upload after io_timeout" wait_for 7 logged 2
kill "$STALLED" 2>/dev/null; wait "$STALLED" 2>/dev/null
unchanged "truncated and stalled uploads"

refuse "dataset create with an unknown class fails" "$SERAMBI" dataset create dinkes-malut/x --class sangat --title x --profile "$ADMIN"
refuse "dataset create for an unknown owner fails" "$SERAMBI" dataset create ghost/x --class biasa --title x --profile "$ADMIN"
refuse "dataset create with a mismatched --owner fails" "$SERAMBI" dataset create dinkes-malut/x --owner ghost --class biasa --title x --profile "$ADMIN"
refuse "principal add with a bad id fails" "$SERAMBI" principal add "Bad_Id" --role producer --name x --out "$WORK/bad" --profile "$ADMIN"
refuse "principal add with an unknown role fails" "$SERAMBI" principal add ok-id --role king --name x --out "$WORK/bad" --profile "$ADMIN"
same "no dataset was created by the refused commands" 1 "$(api "$WORK/walidata" "$URL/v1/datasets" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
same "no principal was created by the refused commands" 3 "$(api "$ADMIN" "$URL/v1/principals" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
check "the gateway is still serving" "$SERAMBI" whoami --profile "$P"
# Error bodies of several kinds, each kept: none may name a server path.
n=0
for args in "-d {bad $URL/v1/datasets" "$URL/v1/packages/00000000000000000000000000000000" \
            "-X POST -H Serambi-Filename:../../etc/passwd --data-binary x $URL/v1/datasets/dinkes-malut/imunisasi/packages" \
            "$URL/v1/datasets/dinkes-malut/nope/packages"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    api "$P" -o "$WORK/error-body-$n" $args 2>/dev/null
done
same "four error bodies were received" 4 "$(find "$WORK" -maxdepth 1 -name 'error-body-*' -size +10c | wc -l)"
same "error messages never carry server paths" "" "$(grep -l -e "$DEP" -e "$WORK" "$WORK"/error-body-* 2>/dev/null)"
finish
