# Disk space: a push or an upload that would leave less free space than storage.reserve_bytes on
# the blob store's file system is refused with 507 before a byte is stored, and /metrics reports
# the free space, the reserve and what the blobs and the database take.
source "$(dirname "$0")/lib.sh"
init_deployment
set_config max_package_bytes 1099511627776
FREE=$(df --output=avail -B1 "$DEP/blobs" | tail -1 | tr -d ' ')
check "the test can read the free space ($FREE bytes)" test "$FREE" -gt 16777216
set_config reserve_bytes $((FREE / 4))
start_gateway
add_principal dinkes-malut producer
add_principal inspektorat auditor
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title Gizi --profile "$ADMIN" >/dev/null
b64() { printf %s "$1" | base64 -w0; }
META="dataset $(b64 dinkes-malut/gizi),filename $(b64 besar.bin),filetype $(b64 application/octet-stream)"
create() { # LENGTH: the status of a tus creation of that length
    status "$P" -X POST -H "Tus-Resumable: 1.0.0" -H "Upload-Length: $1" -H "Upload-Metadata: $META" "$URL/v1/uploads"
}
same "an upload that would eat into the reserve is refused with 507" 507 "$(create "$FREE")"
body=$(api "$P" -s -X POST -H "Tus-Resumable: 1.0.0" -H "Upload-Length: $FREE" -H "Upload-Metadata: $META" "$URL/v1/uploads")
contains "saying why, in words" "disk is nearly full" "$body"
same "one that leaves the reserve alone is accepted" 201 "$(create $((FREE / 8)))"

printf 'kode,nilai\n1,2\n' >"$WORK/small.csv"
check "a small push goes through" "$SERAMBI" push dinkes-malut/gizi "$WORK/small.csv" --no-proof -q --profile "$P"
before=$(package_count "$P" dinkes-malut/gizi)
stop_gateway
set_config reserve_bytes 1125899906842624      # 1 PiB: more than any test machine has
start_gateway
same "with the reserve above the free space, a push is refused with 507" 507 \
    "$(status "$P" -X POST -H "Serambi-Filename: b.csv" -H "Content-Type: text/csv" --data-binary "@$WORK/small.csv" \
        "$URL/v1/datasets/dinkes-malut/gizi/packages")"
out=$("$SERAMBI" push dinkes-malut/gizi "$WORK/small.csv" --no-proof --allow-duplicate --profile "$P" 2>&1)
contains "the CLI says so" "disk is nearly full" "$out"
same "and nothing was stored" "$before" "$(package_count "$P" dinkes-malut/gizi)"
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$WORK/inspektorat" >/dev/null 2>&1
check "the refusals are in the access log" grep -q '"status":507' "$WORK/log.jsonl"
metrics=$(api "$ADMIN" -s "$URL/metrics")
check "/metrics reports the free space" test "$(metric_value "$metrics" serambi_disk_free_bytes)" -gt 0
same "and the reserve" 1125899906842624 "$(metric_value "$metrics" serambi_disk_reserve_bytes)"
check "and what the database takes" test "$(metric_value "$metrics" serambi_database_bytes)" -gt 0
check "and the blobs (none here: small payloads live in the database)" test -n "$(metric_value "$metrics" serambi_blob_store_bytes)"
stop_gateway
set_config reserve_bytes 0
start_gateway
check "reserve_bytes = 0 turns the check off" "$SERAMBI" push dinkes-malut/gizi "$WORK/small.csv" --no-proof -q --allow-duplicate --profile "$P"
stop_gateway
finish
