# Master-key rotation: `serambi keys rotate-master` with the gateway stopped gives the deployment
# a new master key, every data key wrapped again and the database re-keyed, the payloads as they
# were. Stopped dead after each of its six steps (as a power cut would), the next start of the
# gateway rolls it back or finishes it, and nothing is lost either way; the old key is gone after.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal inspektorat auditor
P=$WORK/dinkes-malut
A=$WORK/inspektorat
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title Gizi --profile "$ADMIN" >/dev/null
head -c 300000 /dev/urandom >"$WORK/large.bin"      # a blob file
printf 'kode,nilai\n1,2\n' >"$WORK/small.csv"       # kept in the database
IDS=()
for f in large.bin small.csv; do
    IDS+=("$("$SERAMBI" push dinkes-malut/gizi "$WORK/$f" --no-proof -q --profile "$P" | json_field package_id)")
done
# An upload left half-way: its data key is wrapped too, and must survive the rotation.
b64() { printf %s "$1" | base64 -w0; }
META="dataset $(b64 dinkes-malut/gizi),filename $(b64 half.bin),filetype $(b64 application/octet-stream)"
head -c 200000 /dev/urandom >"$WORK/half.bin"
head -c 100000 "$WORK/half.bin" >"$WORK/half.first"
# A restart keeps an upload's whole 64 KiB chunks: it resumes from 65,536.
tail -c +65537 "$WORK/half.bin" >"$WORK/half.rest"
UPLOAD=$(api "$P" -s -D - -o /dev/null -X POST -H "Tus-Resumable: 1.0.0" -H "Upload-Length: 200000" \
    -H "Upload-Metadata: $META" "$URL/v1/uploads" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
check "an upload is under way" test -n "$UPLOAD"
same "its first half is in" 204 "$(status "$P" -X PATCH -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" \
    -H "Content-Type: application/offset+octet-stream" --data-binary "@$WORK/half.first" "$URL$UPLOAD")"
# And one finished through the same protocol: its row stays a while, its key already cleared.
printf 'selesai\n' >"$WORK/done.txt"
DONE=$(api "$P" -s -D - -o /dev/null -X POST -H "Tus-Resumable: 1.0.0" -H "Upload-Length: 8" \
    -H "Upload-Metadata: dataset $(b64 dinkes-malut/gizi),filename $(b64 done.txt)" "$URL/v1/uploads" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
same "a finished upload" 204 "$(status "$P" -X PATCH -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" \
    -H "Content-Type: application/offset+octet-stream" --data-binary "@$WORK/done.txt" "$URL$DONE")"
"$SERAMBI" audit key --profile "$A" >"$WORK/log.vkey"
"$SERAMBI" audit checkpoint --profile "$A" >"$WORK/before.checkpoint"

refuse_saying "a rotation beside the running gateway is refused" "is working on this deployment" \
    "$SERAMBI" keys rotate-master --config "$DEP/serambi.toml"
stop_gateway
PRISTINE=$WORK/pristine
cp -a "$DEP" "$PRISTINE"
OLD_KEY=$(tr -d '\n' <"$PRISTINE/master.key")

pulls_all() { # every package, and the upload's durable first chunk, as they were
    local id n=0
    for id in "${IDS[@]}"; do
        "$SERAMBI" pull "$id" -o "$WORK/back-$n" -q --no-proof --profile "$P" >/dev/null 2>&1 &&
            cmp -s "$WORK/back-$n" "$WORK/$([ $n = 0 ] && echo large.bin || echo small.csv)" || return 1
        n=$((n + 1))
    done
    [ "$(api "$P" -s -I -H "Tus-Resumable: 1.0.0" "$URL$UPLOAD" | tr -d '\r' | sed -n 's/^[Uu]pload-[Oo]ffset: //p')" = 65536 ]
}

for step in 1 2 3 4 5 6; do
    rm -rf "$DEP" && cp -a "$PRISTINE" "$DEP"
    SERAMBI_TEST_ROTATION_STOP_AFTER=$step "$SERAMBI" keys rotate-master --config "$DEP/serambi.toml" >"$WORK/rotate.log" 2>&1
    same "step $step: the rotation stops dead after it" 137 "$?"
    : >"$WORK/gateway.log"
    start_gateway
    case $step in
        1 | 2 | 3) contains "step $step: the start rolls the rotation back" "rolled back" "$(cat "$WORK/gateway.log")"
                   same "step $step: and the old key stands" "$OLD_KEY" "$(tr -d '\n' <"$DEP/master.key")" ;;
        4 | 5) contains "step $step: the start finishes the rotation" "was finished" "$(cat "$WORK/gateway.log")"
               check "step $step: and the new key stands" test "$(tr -d '\n' <"$DEP/master.key")" != "$OLD_KEY" ;;
        6) check "step 6: the rotation was complete" test "$(tr -d '\n' <"$DEP/master.key")" != "$OLD_KEY" ;;
    esac
    check "step $step: nothing of the rotation is left beside the files" \
        test ! -e "$DEP/master.key.next" -a ! -e "$DEP/serambi.db.next"
    check "step $step: every package pulls, byte for byte, and the upload keeps its first chunk" pulls_all
    stop_gateway
done

# Leftovers no rotation of ours leaves, but a disk might: a half-written temporary key file, and
# a key file that is not a key. The start clears them and keeps the old key.
rm -rf "$DEP" && cp -a "$PRISTINE" "$DEP"
printf '0123' >"$DEP/master.key.next.tmp"
printf 'not a key\n' >"$DEP/master.key.next"
chmod 600 "$DEP/master.key.next"
: >"$WORK/gateway.log"
start_gateway
contains "a key file that is not a key is rolled back at start" "rolled back" "$(cat "$WORK/gateway.log")"
check "and the leftovers are gone" test ! -e "$DEP/master.key.next" -a ! -e "$DEP/master.key.next.tmp"
check "and everything pulls" pulls_all
stop_gateway

# The whole rotation, then once more: each time every package pulls and the log verifies.
rm -rf "$DEP" && cp -a "$PRISTINE" "$DEP"
out=$("$SERAMBI" keys rotate-master --config "$DEP/serambi.toml" 2>&1)
same "a whole rotation succeeds" 0 "$?"
contains "it wrapped every data key again, the finished upload's cleared one left alone" "3 package keys and 1 upload keys wrapped again" "$out"
check "the new key is 0600" test "$(stat -c %a "$DEP/master.key")" = 600
refuse "the old key is nowhere in the deployment" grep -rqF "$OLD_KEY" "$DEP"
check "a second rotation succeeds too" "$SERAMBI" keys rotate-master --config "$DEP/serambi.toml"
opens_with() { # MASTER-KEY-HEX: does the sqlcipher shell open the database with the key derived from it
    local key
    key=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:"$1" -kdfopt info:serambi/sqlcipher/v1 HKDF |
          tr -d ':\n' | tr 'A-F' 'a-f')
    printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = 4096;\nSELECT count(*) FROM packages;\n" "$key" |
        sqlcipher "$DEP/serambi.db" >/dev/null 2>&1
}
check "the new key opens the database (the sqlcipher shell, as a control)" opens_with "$(tr -d '\n' <"$DEP/master.key")"
refuse "the original key does not" opens_with "$OLD_KEY"
start_gateway
check "after two rotations every package pulls and the upload is still there" pulls_all
same "the upload's second half goes in under the new key" 204 "$(status "$P" -X PATCH -H "Tus-Resumable: 1.0.0" \
    -H "Upload-Offset: 65536" -H "Content-Type: application/offset+octet-stream" --data-binary "@$WORK/half.rest" "$URL$UPLOAD")"
check "the audit log exports" "$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$A"
check "and verifies, extending the checkpoint from before the rotations" \
    "$SERAMBI" audit verify --export "$WORK/log.jsonl" --checkpoint "$WORK/log.jsonl.checkpoint" --key "$WORK/log.vkey" --previous "$WORK/before.checkpoint"
refuse_saying "with the gateway running, a rotation is refused" "is working on this deployment" \
    "$SERAMBI" keys rotate-master --config "$DEP/serambi.toml"
out=$("$SERAMBI" serve --config "$DEP/serambi.toml" 2>&1)
contains "and so is a second gateway on the same deployment" "is working on this deployment" "$out"
# The same database under another blob directory and port: a second gateway would append to the
# same access log from its own copy of the log's tail, forking it.
sed -e "s|^blobs = .*|blobs = \"$WORK/other-blobs\"|" -e "s|^listen = .*|listen = \"127.0.0.1:$(free_port)\"|" \
    "$DEP/serambi.toml" >"$DEP/second.toml"
check "the second configuration differs in its blob directory only" grep -q "other-blobs" "$DEP/second.toml"
out=$(timeout 20 "$SERAMBI" serve --config "$DEP/second.toml" 2>&1)
contains "a gateway on the same database with other blobs is refused too" "is working on this deployment" "$out"
contains "naming the database's lock" "serambi.db.gateway.lock" "$out"
stop_gateway
check "serambi fsck finds the rotated deployment consistent" "$SERAMBI" fsck --config "$DEP/serambi.toml" --deep
finish
