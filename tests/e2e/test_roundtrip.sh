# A producer pushes, readers pull and verify: CLI, curl Range, and openssl's own CMS check.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal walidata custodian
"$SERAMBI" dataset create dinkes-malut/imunisasi --owner dinkes-malut --class terbatas --title "Cakupan imunisasi" --profile "$ADMIN" >/dev/null

head -c 5000000 /dev/urandom > "$WORK/data.bin"
receipt=$("$SERAMBI" push dinkes-malut/imunisasi "$WORK/data.bin" --profile "$WORK/dinkes-malut")
check "push prints a receipt" test -n "$receipt"
ID=$(echo "$receipt" | json_field package_id)
same "the receipt states the size" 5000000 "$(echo "$receipt" | json_field size)"
same "the receipt states the sha256" "$(sha256sum "$WORK/data.bin" | cut -d' ' -f1)" "$(echo "$receipt" | json_field sha256)"

export SERAMBI_PROFILE=$WORK/walidata
check "a custodian pulls with the profile from SERAMBI_PROFILE" "$SERAMBI" pull "$ID" -o "$WORK/pulled.bin" -q
check "the pulled file is identical" cmp "$WORK/data.bin" "$WORK/pulled.bin"
check "pull keeps the manifest and its signature" test -s "$WORK/pulled.bin.manifest.json" -a -s "$WORK/pulled.bin.manifest.p7s"
unset SERAMBI_PROFILE
check "serambi verify accepts the file offline" "$SERAMBI" verify "$WORK/pulled.bin" --manifest "$WORK/pulled.bin.manifest.json" --signature "$WORK/pulled.bin.manifest.p7s" --ca "$DEP/pki/ca.crt"
check "openssl cms -verify accepts the manifest signature" openssl cms -verify -binary -inform DER -in "$WORK/pulled.bin.manifest.p7s" -content "$WORK/pulled.bin.manifest.json" -CAfile "$ADMIN/ca.crt" -purpose any -out /dev/null
printf 'x' >> "$WORK/pulled.bin"
refuse "serambi verify rejects a modified file" "$SERAMBI" verify "$WORK/pulled.bin" --manifest "$WORK/pulled.bin.manifest.json" --signature "$WORK/pulled.bin.manifest.p7s" --ca "$DEP/pki/ca.crt"
sed -i 's/terbatas/biasa/' "$WORK/pulled.bin.manifest.json"
refuse "openssl rejects an edited manifest" openssl cms -verify -binary -inform DER -in "$WORK/pulled.bin.manifest.p7s" -content "$WORK/pulled.bin.manifest.json" -CAfile "$ADMIN/ca.crt" -purpose any -out /dev/null

# An output that is not a regular file is written in place, never replaced by one: a pipe here
# (the same path as pulling to /dev/null, without risking the machine's /dev/null).
mkfifo "$WORK/pipe"
cat "$WORK/pipe" > "$WORK/from_pipe.bin" &
reader=$!
check "pull writes into a named pipe" "$SERAMBI" pull "$ID" -o "$WORK/pipe" -q --no-manifest --profile "$WORK/walidata"
wait "$reader"
check "the pipe is still a pipe" test -p "$WORK/pipe"
check "what came through the pipe is the payload" cmp "$WORK/data.bin" "$WORK/from_pipe.bin"
check "no temporary file is left beside it" bash -c "! ls '$WORK'/pipe.part-* 2>/dev/null"

P=$WORK/dinkes-malut
manifest=$(api "$P" "$URL/v1/packages/$ID/manifest")
same "the manifest is canonical JSON (RFC 8785) of the package" "$manifest" "$(echo "$manifest" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, separators=(",",":"), ensure_ascii=False), end="")')"
contains "the manifest names the producer" '"producer":"dinkes-malut"' "$manifest"

digest=$(api "$P" -D - -o /dev/null "$URL/v1/packages/$ID" | tr -d '\r' | grep -i '^repr-digest:' | cut -d' ' -f2)
same "Repr-Digest carries the payload's SHA-256" "sha-256=:$(openssl dgst -sha256 -binary "$WORK/data.bin" | base64 -w0):" "$digest"

same "a range is answered with 206" 206 "$(status "$P" -H 'Range: bytes=1000-1999' "$URL/v1/packages/$ID")"
check "the range holds exactly those bytes" cmp "$WORK/last_body" <(tail -c +1001 "$WORK/data.bin" | head -c 1000)
same "a range crossing a chunk boundary" 206 "$(status "$P" -H 'Range: bytes=65530-131080' "$URL/v1/packages/$ID")"
check "the crossing range is exact" cmp "$WORK/last_body" <(tail -c +65531 "$WORK/data.bin" | head -c 65551)
same "a suffix range" 206 "$(status "$P" -H 'Range: bytes=-10' "$URL/v1/packages/$ID")"
check "the suffix is the last 10 bytes" cmp "$WORK/last_body" <(tail -c 10 "$WORK/data.bin")
same "a range past the end is 416" 416 "$(status "$P" -H 'Range: bytes=6000000-' "$URL/v1/packages/$ID")"
check "curl resumes a download with -C" bash -c "head -c 1234567 '$WORK/data.bin' > '$WORK/resumed.bin' && curl -sS -C - --cacert '$P/ca.crt' --cert '$P/client.crt' --key '$P/client.key' -o '$WORK/resumed.bin' '$URL/v1/packages/$ID' && cmp '$WORK/data.bin' '$WORK/resumed.bin'"

# Keep-alive: after an upload body the same connection serves the next request.
out=$(curl -sS -v --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" -H 'Serambi-Filename: small.csv' \
      --data-binary @"$WORK/pulled.bin.manifest.json" "$URL/v1/datasets/dinkes-malut/imunisasi/packages" \
      --next --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "$URL/v1/whoami" 2>&1)
contains "the connection is reused after an upload" "Re-using existing connection" "$out"
contains "and the next request is answered" '"id":"dinkes-malut"' "$out"
listing=$("$SERAMBI" dataset packages dinkes-malut/imunisasi --profile "$P")
contains "the dataset lists the package" "$ID" "$listing"
: > "$WORK/empty.csv"
refuse "an empty package is refused" "$SERAMBI" push dinkes-malut/imunisasi "$WORK/empty.csv" --profile "$P"
finish
