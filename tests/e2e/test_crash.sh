# kill -9 in the middle of an upload loses nothing committed and shows nothing half-written;
# nothing readable is at rest without the master key.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/imunisasi --class rahasia --title "Imunisasi" --profile "$ADMIN" >/dev/null
for i in $(seq 1 20000); do echo "RAHASIA-MARKER-$i,7102030405060708,lengkap"; done > "$WORK/marked.csv"
KEPT=$("$SERAMBI" push dinkes-malut/imunisasi "$WORK/marked.csv" --profile "$P" | json_field package_id)

# A slow upload, then the gateway is killed while the body is arriving.
head -c 30000000 /dev/urandom > "$WORK/slow.bin"
api "$P" --limit-rate 3M -H 'Serambi-Filename: slow.bin' -T "$WORK/slow.bin" -X POST -o /dev/null \
    "$URL/v1/datasets/dinkes-malut/imunisasi/packages" 2>/dev/null &
CLIENT=$!
for _ in $(seq 1 50); do
    [ -n "$(find "$DEP/blobs/tmp" -name '*.part' -size +1k 2>/dev/null)" ] && break
    sleep 0.1
done
check "the upload was in progress (a temporary blob is growing)" test -n "$(find "$DEP/blobs/tmp" -name '*.part')"
kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=
wait "$CLIENT" 2>/dev/null
check "the killed upload left its partial file behind" test -n "$(find "$DEP/blobs/tmp" -name '*.part')"

start_gateway
contains "start-up removes the unfinished upload" "removed 1 unfinished upload" "$(cat "$WORK/gateway.log")"
same "no temporary file survives the restart" 0 "$(find "$DEP/blobs/tmp" -type f | wc -l)"
same "only the committed package is listed" 1 "$(package_count "$P" dinkes-malut/imunisasi)"
same "exactly one blob remains" 1 "$(blob_count)"
check "the committed package still pulls and verifies" "$SERAMBI" pull "$KEPT" -o "$WORK/kept.csv" --profile "$P" -q
check "and is identical" cmp "$WORK/marked.csv" "$WORK/kept.csv"

# Small packages are kept in the database and committed in groups. kill -9 among forty pushes
# sent at once: the CLI retries each under its Idempotency-Key once the gateway is back, so every
# push ends with a receipt, and every receipt's package is there exactly once, whole.
for i in $(seq 1 40); do
    printf 'kecil-%d,RAHASIA-MARKER-SMALL-%d,lengkap\n' "$i" "$i" > "$WORK/small$i.csv"
done
PUSHERS=()
for i in $(seq 1 40); do
    "$SERAMBI" push dinkes-malut/imunisasi "$WORK/small$i.csv" --profile "$P" -q >"$WORK/small$i.json" 2>"$WORK/small$i.err" &
    PUSHERS+=($!)
done
for _ in $(seq 1 100); do
    (( $(find "$WORK" -name 'small*.json' -size +10c | wc -l) >= 3 )) && break
    sleep 0.05
done
BEFORE_KILL=$(find "$WORK" -name 'small*.json' -size +10c | wc -l)
kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null; GW_PID=
check "some small pushes had their receipts before the kill ($BEFORE_KILL), not all" test "$BEFORE_KILL" -lt 40
start_gateway
FAILED_PUSHES=0
for i in $(seq 1 40); do
    wait "${PUSHERS[$((i - 1))]}" || { FAILED_PUSHES=$((FAILED_PUSHES + 1)); echo "push $i: $(cat "$WORK/small$i.err")"; }
done
same "every small push ended with a receipt, retried across the restart" 0 "$FAILED_PUSHES"
same "each is stored exactly once" 41 "$(package_count "$P" dinkes-malut/imunisasi)"
same "none of them has a blob file: they are in the database" 1 "$(blob_count)"
SMALL_OK=0
for i in $(seq 1 40); do
    id=$(json_field package_id <"$WORK/small$i.json" 2>/dev/null)
    "$SERAMBI" pull "$id" -o "$WORK/small$i.back" --profile "$P" -q >/dev/null 2>&1 &&
        cmp -s "$WORK/small$i.csv" "$WORK/small$i.back" && SMALL_OK=$((SMALL_OK + 1))
done
same "every small package pulls back identical" 40 "$SMALL_OK"
same "no small payload's plaintext is on disk" 0 "$(grep -rl 'RAHASIA-MARKER-SMALL' "$DEP" | wc -l)"
FSCK=$("$SERAMBI" fsck --config "$DEP/serambi.toml" --deep 2>&1)
contains "fsck --deep authenticates them where they are" "41 packages, each with its payload (40 of them small enough to be kept in the database), every one authenticated" "$FSCK"

# A blob placed without its row (a crash between rename and commit) is moved aside at start,
# never deleted: the database's silence alone is no proof it is garbage.
mkdir -p "$DEP/blobs/ee"
head -c 100 /dev/urandom > "$WORK/orphan.blob"
cp "$WORK/orphan.blob" "$DEP/blobs/ee/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.blob"
stop_gateway
start_gateway
check "a blob without a committed row leaves the blob store at start" test ! -e "$DEP/blobs/ee/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.blob"
check "and is kept, byte for byte, in quarantine" cmp "$WORK/orphan.blob" "$DEP/blobs/quarantine/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.blob"
contains "start-up says how many it quarantined" "blobs quarantined at start: 1" "$(cat "$WORK/gateway.log")"

# A missing database is refused, never replaced by an empty one that would discard every blob.
stop_gateway
mv "$DEP/serambi.db" "$WORK/serambi.db.aside"
"$SERAMBI" serve --config "$DEP/serambi.toml" >"$WORK/nodb.log" 2>&1; rc=$?
check "the gateway refuses to start without its database" test "$rc" -ne 0
contains "and says the database is missing" "is missing" "$(cat "$WORK/nodb.log")"
same "no blob was deleted" 1 "$(blob_count)"
mv "$WORK/serambi.db.aside" "$DEP/serambi.db"

# At rest: no plaintext anywhere under the deployment, and the database needs the key.
same "no plaintext payload byte is on disk" 0 "$(grep -rl 'RAHASIA-MARKER' "$DEP" | wc -l)"
same "no principal name is readable in the database file" 0 "$(grep -c 'Test dinkes-malut' "$DEP/serambi.db")"
if command -v sqlcipher >/dev/null; then
    refuse "the database does not open without the key" bash -c "echo 'SELECT count(*) FROM principals;' | sqlcipher '$DEP/serambi.db' 2>&1 | grep -qv 'not a database'"
fi
cp "$DEP/master.key" "$WORK/master.key.good"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DEP/master.key"; echo >> "$DEP/master.key"
"$SERAMBI" serve --config "$DEP/serambi.toml" >"$WORK/wrongkey.log" 2>&1; rc=$?
check "the gateway refuses to start with the wrong master key" test "$rc" -ne 0
contains "and says why" "cannot be read with this master key" "$(cat "$WORK/wrongkey.log")"
cp "$WORK/master.key.good" "$DEP/master.key"; chmod 644 "$DEP/master.key"
"$SERAMBI" serve --config "$DEP/serambi.toml" >"$WORK/mode.log" 2>&1; rc=$?
check "the gateway refuses a master key others may read" test "$rc" -ne 0
contains "and names the fix" "chmod 600" "$(cat "$WORK/mode.log")"
chmod 600 "$DEP/master.key"
for k in log.key pki/ca.key pki/gateway.key pki/signing.key; do
    chmod 640 "$DEP/$k"
    "$SERAMBI" serve --config "$DEP/serambi.toml" >"$WORK/mode.log" 2>&1; rc=$?
    check "the gateway refuses $k when its group may read it" test "$rc" -ne 0
    contains "and names the fix for $k" "run: chmod 600 $DEP/$k" "$(cat "$WORK/mode.log")"
    chmod 600 "$DEP/$k"
done
start_gateway
check "with the right key everything is back" "$SERAMBI" pull "$KEPT" -o "$WORK/again.csv" --profile "$P" -q

# A blob tampered with at rest is never served as data.
stop_gateway
BLOB=$(find "$DEP/blobs" -name "$KEPT.blob")
# Flip one bit (writing a fixed byte would leave the blob unchanged once in 256 runs).
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(5000); b=f.read(1); f.seek(5000); f.write(bytes([b[0]^1]))' "$BLOB"
start_gateway
refuse "a tampered blob does not pull" "$SERAMBI" pull "$KEPT" -o "$WORK/tampered.csv" --profile "$P" -q
check "and nothing is written" test ! -e "$WORK/tampered.csv"
same "the gateway answers 500 rather than serving tampered bytes" 500 "$(status "$P" "$URL/v1/packages/$KEPT")"
finish
