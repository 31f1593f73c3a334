# Transfers over a weak link: resumable uploads (tus 1.0.0) through a proxy that cuts, a gateway
# killed mid-upload, a CLI stopped and run again, and retries that never store a second copy.
source "$(dirname "$0")/lib.sh"
init_deployment
set_config max_open_per_principal 3
start_gateway
add_principal dinkes-malut producer
add_principal dinkes-halut producer
add_principal walidata custodian
add_principal inspektorat auditor
add_principal bi-malut partner
P=$WORK/dinkes-malut
Q=$WORK/dinkes-halut
C=$WORK/walidata
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title Gizi --profile "$C" >/dev/null
"$SERAMBI" dataset create dinkes-malut/rujukan --class sangat-rahasia --title Rujukan --profile "$C" >/dev/null
"$SERAMBI" dataset create dinkes-halut/gizi --class biasa --title Gizi --profile "$C" >/dev/null
b64() { printf %s "$1" | base64 -w0; }
META="dataset $(b64 dinkes-malut/gizi),filename $(b64 laporan.csv),filetype $(b64 text/csv)"
TUS=(-H "Tus-Resumable: 1.0.0")
# hdr NAME < headers: one header's value
hdr() { tr -d '\r' | python3 -c '
import sys
for line in sys.stdin:
    name, _, value = line.partition(":")
    if name.strip().lower() == sys.argv[1].lower(): print(value.strip())' "$1"; }
create() { # PROFILE LENGTH [METADATA]: the upload's path
    api "$1" -s -D - -o /dev/null -X POST "${TUS[@]}" -H "Upload-Length: $2" -H "Upload-Metadata: ${3:-$META}" \
        "$URL/v1/uploads" | hdr location
}
patch() { # PROFILE PATH OFFSET FILE [CURL-ARGS]: the status
    local p=$1 path=$2 off=$3 f=$4; shift 4
    status "$p" -X PATCH "${TUS[@]}" -H "Upload-Offset: $off" -H "Content-Type: application/offset+octet-stream" \
        --data-binary "@$f" "$@" "$URL$path"
}
offset() { api "$1" -s -I "${TUS[@]}" "$URL$2" | hdr upload-offset; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- The protocol, as a stock tus client sees it
opts=$(api "$P" -s -D - -o /dev/null -X OPTIONS "$URL/v1/uploads")
same "OPTIONS names the version" 1.0.0 "$(echo "$opts" | hdr tus-version)"
contains "and the extensions" "creation,creation-with-upload,checksum,expiration,termination" "$(echo "$opts" | hdr tus-extension)"
same "and sha256 checksums" sha256 "$(echo "$opts" | hdr tus-checksum-algorithm)"
same "a creation without Tus-Resumable is refused (412)" 412 \
    "$(status "$P" -X POST -H "Upload-Length: 5" -H "Upload-Metadata: $META" "$URL/v1/uploads")"
same "a creation without Upload-Length is refused" 400 \
    "$(status "$P" -X POST "${TUS[@]}" -H "Upload-Metadata: $META" "$URL/v1/uploads")"
same "a length over the gateway's limit is refused (413)" 413 \
    "$(status "$P" -X POST "${TUS[@]}" -H "Upload-Length: 99999999999999" -H "Upload-Metadata: $META" "$URL/v1/uploads")"
same "metadata that is not base64 is refused" 400 \
    "$(status "$P" -X POST "${TUS[@]}" -H "Upload-Length: 5" -H "Upload-Metadata: dataset %%%" "$URL/v1/uploads")"
same "a dataset the producer does not own is refused as a push is" \
    "$(status "$Q" -X POST -H "Serambi-Filename: x.csv" -d x "$URL/v1/datasets/dinkes-malut/gizi/packages")" \
    "$(status "$Q" -X POST "${TUS[@]}" -H "Upload-Length: 5" -H "Upload-Metadata: $META" "$URL/v1/uploads")"
same "a file name with a path is refused" 400 "$(status "$P" -X POST "${TUS[@]}" -H "Upload-Length: 5" \
    -H "Upload-Metadata: dataset $(b64 dinkes-malut/gizi),filename $(b64 ../x)" "$URL/v1/uploads")"
same "a custodian may not upload (the policy decides)" 403 \
    "$(status "$C" -X POST "${TUS[@]}" -H "Upload-Length: 5" -H "Upload-Metadata: $META" "$URL/v1/uploads")"

head -c 1000000 /dev/urandom >"$WORK/one.bin"
head -c 300000 "$WORK/one.bin" >"$WORK/one.a"
tail -c +300001 "$WORK/one.bin" >"$WORK/one.b"
U=$(create "$P" 1000000)
contains "a creation answers the upload's location" "/v1/uploads/" "$U"
same "a new upload is at offset 0" 0 "$(offset "$P" "$U")"
contains "and says when it expires" "GMT" "$(api "$P" -s -I "${TUS[@]}" "$URL$U" | hdr upload-expires)"
same "another principal cannot see it (404)" 404 "$(status "$Q" -I "${TUS[@]}" "$URL$U")"
same "nor append to it" 404 "$(patch "$Q" "$U" 0 "$WORK/one.a")"
same "a PATCH of another media type is refused (415)" 415 \
    "$(status "$P" -X PATCH "${TUS[@]}" -H "Upload-Offset: 0" --data-binary "@$WORK/one.a" "$URL$U")"
same "a PATCH at the wrong offset is refused (409)" 409 "$(patch "$P" "$U" 5 "$WORK/one.a")"
bad_sum=$(printf 'x' | openssl dgst -sha256 -binary | base64)
same "a PATCH whose checksum does not match is refused (460)" 460 \
    "$(patch "$P" "$U" 0 "$WORK/one.a" -H "Upload-Checksum: sha256 $bad_sum")"
same "and nothing of it was kept" 0 "$(offset "$P" "$U")"
good_sum=$(openssl dgst -sha256 -binary "$WORK/one.a" | base64)
same "a PATCH with the right checksum is taken (204)" 204 \
    "$(patch "$P" "$U" 0 "$WORK/one.a" -H "Upload-Checksum: sha256 $good_sum")"
same "the offset moves" 300000 "$(offset "$P" "$U")"
same "an unfinished upload is not a package: the dataset lists nothing" 0 "$(package_count "$P" dinkes-malut/gizi)"
same "a PATCH past the declared length is refused (413)" 413 "$(patch "$P" "$U" 300000 "$WORK/one.bin")"
same "the last PATCH is answered 204" 204 "$(patch "$P" "$U" 300000 "$WORK/one.b")"
headers=$(api "$P" -s -I "${TUS[@]}" "$URL$U")
PKG=$(echo "$headers" | hdr serambi-package-id)
same "the finished upload names its package" 32 "${#PKG}"
same "the package is listed once" 1 "$(package_count "$P" dinkes-malut/gizi)"
api "$P" -s -o "$WORK/one.pulled" "$URL/v1/packages/$PKG"
same "and pulls intact" "$(sha "$WORK/one.bin")" "$(sha "$WORK/one.pulled")"
same "its receipt is kept with the upload" "$PKG" \
    "$(api "$P" -s "$URL$U" | python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"]["package_id"])')"
same "a finished upload takes no more bytes (409)" 409 "$(patch "$P" "$U" 1000000 "$WORK/one.a")"
idx=$(api "$P" -s "$URL$U" | python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"]["audit_index"])')
entry=$(api "$WORK/inspektorat" -s "$URL/v1/audit/entries?start=$idx&end=$((idx + 1))")
contains "the package's access-log entry is the push" "package.push" "$entry"

# creation-with-upload: the whole file in the POST
head -c 5000 /dev/urandom >"$WORK/small.bin"
code=$(status "$P" -X POST "${TUS[@]}" -H "Upload-Length: 5000" -H "Content-Type: application/offset+octet-stream" \
    -H "Upload-Metadata: dataset $(b64 dinkes-malut/gizi),filename $(b64 kecil.bin)" --data-binary "@$WORK/small.bin" \
    "$URL/v1/uploads")
same "a creation with the whole body makes the package at once (201)" 201 "$code"
same "with its receipt" "$(sha "$WORK/small.bin")" "$(json_field sha256 <"$WORK/last_body")"
parts_before=$(ls "$DEP/blobs/uploads" | wc -l)
same "a creation whose body is not application/offset+octet-stream is refused (415)" 415 \
    "$(status "$P" -X POST "${TUS[@]}" -H "Upload-Length: 5000" -H "Content-Type: text/plain" \
        -H "Upload-Metadata: $META" --data-binary "@$WORK/small.bin" "$URL/v1/uploads")"
same "and leaves no upload behind" "$parts_before" "$(ls "$DEP/blobs/uploads" | wc -l)"
bad460=$(api "$P" -s -D - -o /dev/null -X POST "${TUS[@]}" -H "Upload-Length: 5000" -H "Upload-Metadata: $META" \
    -H "Content-Type: application/offset+octet-stream" -H "Upload-Checksum: sha256 $bad_sum" \
    --data-binary "@$WORK/small.bin" "$URL/v1/uploads")
contains "a creation whose first bytes fail their checksum is answered 460" " 460" "$(echo "$bad460" | head -1)"
B460=$(echo "$bad460" | hdr location)
contains "with the upload's address, so that the client can send them again" "/v1/uploads/" "$B460"
same "where nothing of them was kept" 0 "$(offset "$P" "$B460")"
status "$P" -X DELETE "${TUS[@]}" "$URL$B460" >/dev/null

# Termination, and the cap on unfinished uploads
D=$(create "$P" 5000)
same "an unfinished upload can be abandoned (204)" 204 "$(status "$P" -X DELETE "${TUS[@]}" "$URL$D")"
same "and is gone" 404 "$(status "$P" -I "${TUS[@]}" "$URL$D")"
same "a finished one cannot be abandoned (409)" 409 "$(status "$P" -X DELETE "${TUS[@]}" "$URL$U")"
for i in 1 2 3; do create "$P" 5000 >/dev/null; done
same "a fourth unfinished upload is over the cap (429)" 429 \
    "$(status "$P" -X POST "${TUS[@]}" -H "Upload-Length: 5" -H "Upload-Metadata: $META" "$URL/v1/uploads")"
contains "which says how to make room" "DELETE" "$(cat "$WORK/last_body")"

# sangat-rahasia uploads are age files, checked from their first bytes
R=$(api "$P" -s -D - -o /dev/null -X POST "${TUS[@]}" -H "Upload-Length: 100" -H "Upload-Metadata: dataset $(b64 dinkes-malut/rujukan),filename $(b64 r.age),filetype $(b64 application/age),recipients $(b64 walidata)" "$URL/v1/uploads" | hdr location)
head -c 100 /dev/zero >"$WORK/zeros"
# (the cap is full: the creation above was refused, so make room first)
same "the cap held the sangat-rahasia upload back" "" "$R"
for u in $(ls "$DEP/blobs/uploads" | cut -d. -f1 | sort -u); do status "$P" -X DELETE "${TUS[@]}" "$URL/v1/uploads/$u" >/dev/null; done
R=$(api "$P" -s -D - -o /dev/null -X POST "${TUS[@]}" -H "Upload-Length: 100" -H "Upload-Metadata: dataset $(b64 dinkes-malut/rujukan),filename $(b64 r.age),filetype $(b64 application/age),recipients $(b64 walidata)" "$URL/v1/uploads" | hdr location)
same "bytes that are not an age file are refused at once" 400 "$(patch "$P" "$R" 0 "$WORK/zeros")"
contains "saying why" "age files" "$(cat "$WORK/last_body")"

# ---- A gateway killed mid-upload resumes from the last whole sealed chunk
head -c 3000000 /dev/urandom >"$WORK/three.bin"
head -c 1000000 "$WORK/three.bin" >"$WORK/three.a"
K=$(create "$P" 3000000)
patch "$P" "$K" 0 "$WORK/three.a" >/dev/null
kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null
start_gateway
off=$(offset "$P" "$K")
same "after kill -9 the offset is the last whole chunk" $((1000000 / 65536 * 65536)) "$off"
same "and one part file is left, sealed again under a new key" 1 "$(ls "$DEP/blobs/uploads" | grep -c "^${K##*/}\.")"
tail -c +$((off + 1)) "$WORK/three.bin" >"$WORK/three.rest"
same "the rest is taken from that offset" 204 "$(patch "$P" "$K" "$off" "$WORK/three.rest")"
PKG=$(api "$P" -s -I "${TUS[@]}" "$URL$K" | hdr serambi-package-id)
api "$P" -s -o "$WORK/three.pulled" "$URL/v1/packages/$PKG"
same "the package is whole" "$(sha "$WORK/three.bin")" "$(sha "$WORK/three.pulled")"

# ---- The CLI through a link that drops: 200 MB, cut five times
proxy() { # PORT ARGS...
    python3 "$(dirname "$0")/fault_proxy.py" "$1" "$PORT" "${@:2}" >/dev/null 2>&1 &
    PROXY_PID=$!
    for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $1)).close()" 2>/dev/null && return; sleep 0.1; done
}
through() { # PROFILE PORT: a copy of the profile that dials the proxy
    local copy=$WORK/via-$2; rm -rf "$copy"; cp -a "$1" "$copy"
    sed -i "s|127.0.0.1:$PORT|127.0.0.1:$2|" "$copy/profile.toml"
    echo "$copy"
}
BIG=$WORK/big.bin
head -c $((200 * 1024 * 1024)) /dev/urandom >"$BIG"
PP=$(free_port)
proxy "$PP" --cut-up $((40 * 1024 * 1024)) --cuts 5 --stats "$WORK/proxy.json"
VIA=$(through "$P" "$PP")
before=$(package_count "$P" dinkes-malut/gizi)
"$SERAMBI" push dinkes-malut/gizi "$BIG" -q --profile "$VIA" >"$WORK/big.receipt" 2>"$WORK/big.err"
same "a 200 MB push cut five times completes" 0 "$?"
same "the proxy did cut it five times" 5 "$(json_field cuts <"$WORK/proxy.json")"
contains "the CLI said it resumed" "resuming at" "$(cat "$WORK/big.err")"
same "into one package" $((before + 1)) "$(package_count "$P" dinkes-malut/gizi)"
same "whose digest is the file's" "$(sha "$BIG")" "$(json_field sha256 <"$WORK/big.receipt")"
sent=$(json_field up <"$WORK/proxy.json")
extra=$(python3 -c "print(round(($sent - $(stat -c %s "$BIG")) / 1048576, 1))")
# What a cut costs is what was in flight (socket buffers on both sides, a few MiB): never more
# than 8 MiB a cut. (bench/resume.sh measures the 1 GiB case against its 1.05x target.)
check "each cut cost only the bytes in flight ($extra MiB resent for 5 cuts)" \
    python3 -c "import sys; sys.exit(0 if $extra <= 5 * 8 else 1)"
api "$P" -s -o "$WORK/big.pulled" "$URL/v1/packages/$(json_field package_id <"$WORK/big.receipt")"
same "and it pulls intact" "$(sha "$BIG")" "$(sha "$WORK/big.pulled")"
same "the CLI's resume state is gone once done" 0 "$(ls "$VIA/uploads" 2>/dev/null | wc -l)"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null

# ---- A link that stalls for a while, then goes on: the transfer waits rather than failing
PT=$(free_port)
proxy "$PT" --stall-after $((3 * 1024 * 1024)) --stall 3
VIAT=$(through "$P" "$PT")
head -c $((10 * 1024 * 1024)) /dev/urandom >"$WORK/stall.bin"
started=$SECONDS
"$SERAMBI" push dinkes-malut/gizi "$WORK/stall.bin" -q --profile "$VIAT" >"$WORK/stall.receipt" 2>&1
same "a push through a link that stalls for 3 s completes" 0 "$?"
check "after waiting out the stall" test $((SECONDS - started)) -ge 3
same "with the file's digest" "$(sha "$WORK/stall.bin")" "$(json_field sha256 <"$WORK/stall.receipt")"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null

# ---- The CLI stopped mid-upload, then the same command again
head -c $((30 * 1024 * 1024)) /dev/urandom >"$WORK/mid.bin"
PS=$(free_port)
proxy "$PS" --rate $((4 * 1024 * 1024))
VIA2=$(through "$P" "$PS")
"$SERAMBI" push dinkes-malut/gizi "$WORK/mid.bin" -q --profile "$VIA2" >/dev/null 2>&1 &
CLI_PID=$!
check "the first run leaves its upload state" wait_for 30 bash -c "ls '$VIA2'/uploads/*.json"
sleep 3
kill -9 "$CLI_PID"; wait "$CLI_PID" 2>/dev/null
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
sed -i "s|127.0.0.1:$PS|127.0.0.1:$PORT|" "$VIA2/profile.toml"  # the link is back
"$SERAMBI" push dinkes-malut/gizi "$WORK/mid.bin" -q --profile "$VIA2" >"$WORK/mid.receipt" 2>"$WORK/mid.err"
same "running the same command again completes the push" 0 "$?"
contains "from where the first run stopped" "resuming at" "$(cat "$WORK/mid.err")"
same "with the file's digest" "$(sha "$WORK/mid.bin")" "$(json_field sha256 <"$WORK/mid.receipt")"

# ---- Retries never duplicate
echo "kecamatan,balita" >"$WORK/k.csv"
n0=$(package_count "$P" dinkes-malut/gizi)
push_with_key() { # KEY FILE
    status "$P" -X POST -H "Serambi-Filename: k.csv" -H "Idempotency-Key: $1" --data-binary "@$2" \
        "$URL/v1/datasets/dinkes-malut/gizi/packages"
}
same "a push with an Idempotency-Key is stored (201)" 201 "$(push_with_key retry-1 "$WORK/k.csv")"
first=$(json_field package_id <"$WORK/last_body")
same "the same key and body again answers 200" 200 "$(push_with_key retry-1 "$WORK/k.csv")"
same "with the first receipt" "$first" "$(json_field package_id <"$WORK/last_body")"
same "and one package was stored" $((n0 + 1)) "$(package_count "$P" dinkes-malut/gizi)"
echo "other" >"$WORK/k2.csv"
same "the same key with another body is refused (422)" 422 "$(push_with_key retry-1 "$WORK/k2.csv")"
same "and stores nothing" $((n0 + 1)) "$(package_count "$P" dinkes-malut/gizi)"
same "a key with spaces is refused" 400 "$(push_with_key 'a b' "$WORK/k.csv")"
refuse_saying "the CLI will not send the dataset's newest file again unasked" "allow-duplicate" \
    "$SERAMBI" push dinkes-malut/gizi "$WORK/k.csv" -q --profile "$P"
same "so nothing more was stored" $((n0 + 1)) "$(package_count "$P" dinkes-malut/gizi)"
repeat=$("$SERAMBI" push dinkes-malut/gizi "$WORK/k.csv" -q --allow-duplicate --profile "$P" | json_field repeats)
same "with --allow-duplicate it is, and the receipt says which package it repeats" "$first" "$repeat"

# ---- Downloads through a link that drops: resumed with Range, verified before they are put in place
PD=$(free_port)
proxy "$PD" --cut-down $((40 * 1024 * 1024)) --cuts 5 --stats "$WORK/proxy.json"
VIAD=$(through "$P" "$PD")
BIGID=$(json_field package_id <"$WORK/big.receipt")
"$SERAMBI" pull "$BIGID" -o "$WORK/big.again" -q --profile "$VIAD" 2>"$WORK/pull.err"
same "a 200 MB pull cut five times completes" 0 "$?"
same "the proxy did cut it five times" 5 "$(json_field cuts <"$WORK/proxy.json")"
contains "retrying after each cut" "trying again" "$(cat "$WORK/pull.err")"
same "with the file's bytes" "$(sha "$BIG")" "$(sha "$WORK/big.again")"
same "and no partial file left" 0 "$(ls "$WORK" | grep -c serambi-partial)"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null

# rahasia: age-encrypted to the partner, under a release capped at one download
"$SERAMBI" dataset create dinkes-malut/keuangan --class rahasia --title Keuangan --profile "$C" >/dev/null
"$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/*' --max-class rahasia --purpose kajian \
    --valid-from "$(date -u -d yesterday +%F)" --valid-until "$(date -u -d '+30 days' +%F)" --profile "$C" >/dev/null
head -c $((200 * 1024 * 1024)) /dev/urandom >"$WORK/keuangan.bin"
RP=$("$SERAMBI" push dinkes-malut/keuangan "$WORK/keuangan.bin" -q --profile "$P" | json_field package_id)
"$SERAMBI" approve "$RP" --for bi-malut --max-downloads 1 --profile "$C" >/dev/null
PA=$(free_port)
proxy "$PA" --cut-down $((40 * 1024 * 1024)) --cuts 5 --stats "$WORK/proxy.json"
VIAB=$(through "$WORK/bi-malut" "$PA")
"$SERAMBI" pull "$RP" -o "$WORK/keuangan.pulled" -q --profile "$VIAB" 2>"$WORK/pull-age.err"
same "a 200 MB age delivery cut five times completes" 0 "$?"
[ -s "$WORK/keuangan.pulled" ] || cat "$WORK/pull-age.err"
same "and opens to the producer's file" "$(sha "$WORK/keuangan.bin")" "$(sha "$WORK/keuangan.pulled")"
same "the proxy did cut it five times" 5 "$(json_field cuts <"$WORK/proxy.json")"
rp_downloads() { api "$C" "$URL/v1/approvals?package=$RP" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["downloads"])'; }
for _ in $(seq 1 50); do [ "$(rp_downloads)" = 1 ] && break; sleep 0.1; done
same "the cut and resumed download counted once" 1 "$(rp_downloads)"
same "a second download is refused (403)" 403 "$(status "$WORK/bi-malut" "$URL/v1/packages/$RP")"
contains "saying the release is used up" "used up" "$(cat "$WORK/last_body")"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null

# The CLI stopped mid-pull, then the same command again
PR=$(free_port)
proxy "$PR" --rate $((4 * 1024 * 1024))
VIAR=$(through "$P" "$PR")
"$SERAMBI" pull "$BIGID" -o "$WORK/big.third" -q --profile "$VIAR" >/dev/null 2>&1 &
CLI_PID=$!
check "the stopped pull leaves a partial file" wait_for 30 bash -c "test \$(stat -c %s '$WORK/big.third.serambi-partial' 2>/dev/null || echo 0) -gt 1000000"
kill -9 "$CLI_PID"; wait "$CLI_PID" 2>/dev/null
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null
same "which is the user's alone" 600 "$(stat -c %a "$WORK/big.third.serambi-partial")"
check "and nothing is at the target before it verifies" test ! -e "$WORK/big.third"
sed -i "s|127.0.0.1:$PR|127.0.0.1:$PORT|" "$VIAR/profile.toml"
"$SERAMBI" pull "$BIGID" -o "$WORK/big.third" -q --profile "$VIAR" 2>"$WORK/pull3.err"
same "running the same pull again completes it" 0 "$?"
contains "from where it stopped" "resuming at" "$(cat "$WORK/pull3.err")"
same "with the file's bytes" "$(sha "$BIG")" "$(sha "$WORK/big.third")"
# A partial file that is not this package's prefix is caught by the digest, and removed
printf 'XXXXX' >"$WORK/k.out.serambi-partial"; chmod 600 "$WORK/k.out.serambi-partial"
python3 -c 'import json,sys; print(json.dumps({"package": sys.argv[1], "etag": "\"%s\"" % sys.argv[2]}))' \
    "$first" "$(sha "$WORK/k.csv")" >"$WORK/k.out.serambi-partial.json"
refuse_saying "a planted partial file does not verify" "does not match" "$SERAMBI" pull "$first" -o "$WORK/k.out" -q --profile "$P"
check "and is removed" test ! -e "$WORK/k.out.serambi-partial"
check "so the next pull succeeds" "$SERAMBI" pull "$first" -o "$WORK/k.out" -q --profile "$P"
ln -s /etc/passwd "$WORK/l.out.serambi-partial"
refuse_saying "a partial file that is a link is refused" "link" "$SERAMBI" pull "$first" -o "$WORK/l.out" -q --profile "$P"

finish
