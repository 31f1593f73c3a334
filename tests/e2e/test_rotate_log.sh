# Access-log key rotation: `serambi keys rotate-log` with the gateway stopped writes a new key,
# a hand-over in the log (the announcement, then the checkpoint of the tree that ends with it,
# signed by the old key and the new one), and then puts the new key in place of the old one. An
# auditor holding only the old key follows the hand-over in an export; a witness that knew the
# old key follows it by itself. Stopped dead after each step, the next start settles it; a
# retired key put back is refused.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal inspektorat auditor
P=$WORK/dinkes-malut
A=$WORK/inspektorat
"$SERAMBI" dataset create dinkes-malut/gizi --class biasa --title Gizi --profile "$ADMIN" >/dev/null
printf 'kode,nilai\n1,2\n' >"$WORK/a.csv"
check "a package goes in under the first key" "$SERAMBI" push dinkes-malut/gizi "$WORK/a.csv" --allow-duplicate -q --profile "$P"
"$SERAMBI" audit key --profile "$A" >"$WORK/old.vkey"
"$SERAMBI" audit checkpoint --profile "$A" >"$WORK/before.checkpoint"
refuse_saying "a rotation beside the running gateway is refused" "is working on this deployment" \
    "$SERAMBI" keys rotate-log --config "$DEP/serambi.toml"
stop_gateway
PRISTINE=$WORK/pristine
cp -a "$DEP" "$PRISTINE"
OLD_PRIVATE=$(tr -d '\n' <"$PRISTINE/log.key")

verifies_from_old_key() { # the whole log, exported now, checked with the old key only
    "$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$A" >/dev/null 2>&1 &&
        "$SERAMBI" audit verify --export "$WORK/log.jsonl" --checkpoint "$WORK/log.jsonl.checkpoint" \
            --key "$WORK/old.vkey" --previous "$WORK/before.checkpoint"
}

for step in 1 2 3 4; do
    rm -rf "$DEP" && cp -a "$PRISTINE" "$DEP"
    SERAMBI_TEST_ROTATION_STOP_AFTER=$step "$SERAMBI" keys rotate-log --config "$DEP/serambi.toml" >"$WORK/rotate.log" 2>&1
    same "step $step: the rotation stops dead after it" 137 "$?"
    : >"$WORK/gateway.log"
    start_gateway
    "$SERAMBI" audit key --profile "$A" >"$WORK/now.vkey"
    case $step in
        1) contains "step 1: the start rolls the rotation back" "rolled back" "$(cat "$WORK/gateway.log")"
           same "step 1: and the old key stands" "$OLD_PRIVATE" "$(tr -d '\n' <"$DEP/log.key")"
           same "step 1: the gateway signs with the old key" "$(cat "$WORK/old.vkey")" "$(cat "$WORK/now.vkey")" ;;
        2 | 3) contains "step $step: the start finishes the rotation" "was finished" "$(cat "$WORK/gateway.log")"
               check "step $step: the new key is in place" test "$(tr -d '\n' <"$DEP/log.key")" != "$OLD_PRIVATE"
               check "step $step: the gateway signs with the new key" test "$(cat "$WORK/now.vkey")" != "$(cat "$WORK/old.vkey")" ;;
        4) check "step 4: the rotation was complete" test "$(tr -d '\n' <"$DEP/log.key")" != "$OLD_PRIVATE" ;;
    esac
    check "step $step: nothing of the rotation is left beside the key" test ! -e "$DEP/log.key.next" -a ! -e "$DEP/log.key.next.tmp"
    check "step $step: a push still works" "$SERAMBI" push dinkes-malut/gizi "$WORK/a.csv" --allow-duplicate -q --profile "$P"
    check "step $step: the whole log verifies from the old key" verifies_from_old_key
    stop_gateway
done

# Leftovers a disk might hold: a half-written temporary file, and a KEY.next that is no key.
rm -rf "$DEP" && cp -a "$PRISTINE" "$DEP"
printf 'PRIV' >"$DEP/log.key.next.tmp"
printf 'not a key\n' >"$DEP/log.key.next"
chmod 600 "$DEP/log.key.next"
: >"$WORK/gateway.log"
start_gateway
contains "a KEY.next that is no key is rolled back at start" "rolled back" "$(cat "$WORK/gateway.log")"
check "and the leftovers are gone" test ! -e "$DEP/log.key.next" -a ! -e "$DEP/log.key.next.tmp"
same "and the old key stands" "$OLD_PRIVATE" "$(tr -d '\n' <"$DEP/log.key")"
stop_gateway

# A witness that knows only the old key, cosigning before the rotation.
rm -rf "$DEP" && cp -a "$PRISTINE" "$DEP"
WPORT=$(free_port)
W=$WORK/witness
W_PID=
start_witness() {
    "$SERAMBI" witness serve --config "$W/witness.toml" >>"$WORK/witness.log" 2>&1 &
    W_PID=$!
    wait_for 10 curl -sf "http://127.0.0.1:$WPORT/key" || { echo "the witness did not start"; cat "$WORK/witness.log"; exit 1; }
}
stop_witness() { kill "$W_PID" 2>/dev/null; wait "$W_PID" 2>/dev/null; W_PID=; }
trap 'stop_witness; cleanup' EXIT
"$SERAMBI" witness init "$W" --name inspektorat.example.go.id/witness --listen "127.0.0.1:$WPORT" \
    --log-key "$WORK/old.vkey" >/dev/null
start_witness
printf '\n[[witness]]\nurl = "http://127.0.0.1:%s"\nkey = "%s"\n' "$WPORT" "$(cat "$W/witness.vkey")" >>"$DEP/serambi.toml"
start_gateway
check "the witness cosigns under the old key" wait_for 15 "$SERAMBI" audit checkpoint --witness "$W/witness.vkey" --profile "$A"
stop_gateway

out=$("$SERAMBI" keys rotate-log --config "$DEP/serambi.toml" 2>&1)
same "a whole rotation succeeds" 0 "$?"
contains "it says what to tell auditors" "serambi audit key" "$out"
check "the new key is 0600" test "$(stat -c %a "$DEP/log.key")" = 600
refuse "the old private key is nowhere in the deployment" grep -rqF "$OLD_PRIVATE" "$DEP"
start_gateway
"$SERAMBI" audit key --profile "$A" >"$WORK/new.vkey"
check "the gateway serves a new verifier key, for the same log" test "$(cat "$WORK/new.vkey")" != "$(cat "$WORK/old.vkey")" -a \
    "$(cut -d+ -f1 "$WORK/new.vkey")" = "$(cut -d+ -f1 "$WORK/old.vkey")"
check "a push after the rotation" "$SERAMBI" push dinkes-malut/gizi "$WORK/a.csv" --allow-duplicate -q --profile "$P"
out=$(verifies_from_old_key 2>&1)
same "the whole log verifies from the old key, across the hand-over" 0 "$?"
contains "and says it followed one hand-over" "handed over 1 time" "$out"
# The hand-over checkpoint's size is the index of the entry that holds it; every larger
# checkpoint is signed by the new key alone.
handover_size() { echo $(($(grep -n '"log.key_handover"' "$WORK/log.jsonl" | tail -1 | cut -d: -f1) - 1)); }
witnessed_beyond() { # SIZE: the witness cosigned a checkpoint larger than SIZE
    local size
    size=$("$SERAMBI" audit checkpoint --witness "$W/witness.vkey" --profile "$A" 2>/dev/null | sed -n 2p)
    [ -n "$size" ] && [ "$size" -gt "$1" ]
}
"$SERAMBI" push dinkes-malut/gizi "$WORK/a.csv" --allow-duplicate -q --profile "$P" >/dev/null
check "the witness follows the hand-over and cosigns checkpoints signed by the new key" wait_for 20 \
    witnessed_beyond "$(handover_size)"
contains "the witness says it followed" "handed its key over" "$(cat "$WORK/witness.log")"
contains "and keeps the new key in its state" "$(cat "$WORK/new.vkey")" "$(cat "$W/witness.state")"
check "the new key verifies it too, and the checkpoint saved before the rotation" "$SERAMBI" audit verify \
    --export "$WORK/log.jsonl" --checkpoint "$WORK/log.jsonl.checkpoint" --key "$WORK/new.vkey" \
    --previous "$WORK/before.checkpoint"
HANDOVER=$(grep -n '"log.key_handover"' "$WORK/log.jsonl" | cut -d: -f1)
check "the hand-over is an entry of the log" test -n "$HANDOVER"
grep -n '"log.key_rotated"' "$WORK/log.jsonl" | grep -qF "$(cat "$WORK/new.vkey")"
same "the entry before it announces the new key" 0 "$?"

# Tampering: the hand-over stripped of the old key's signature no longer moves the trust.
python3 - "$WORK/log.jsonl" "$WORK/stripped.jsonl" "$(cut -d+ -f1 "$WORK/old.vkey")" <<'PYEOF'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
out = []
for line in lines:
    if '"log.key_handover"' in line:
        entry = json.loads(line)
        note = entry["checkpoint"]
        body, sigs = note.split("\n\n", 1)
        entry["checkpoint"] = body + "\n\n" + sigs.split("\n", 1)[1]  # the first line was the old key's
        line = json.dumps(entry, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    out.append(line)
open(sys.argv[2], "w").write("\n".join(out))
PYEOF
refuse_saying "an export whose hand-over lacks the old key's signature fails" "does not check out" \
    "$SERAMBI" audit verify --export "$WORK/stripped.jsonl" --checkpoint "$WORK/log.jsonl.checkpoint" --key "$WORK/old.vkey"
refuse_saying "a checkpoint by the new key, without the export, does not verify with the old key; it says why" \
    "rotated" "$SERAMBI" audit proof consistency --old "$WORK/before.checkpoint" --key "$WORK/old.vkey" --profile "$A"

# The retired key put back (an old offline copy, say) stops the start: checkpoints under it
# would not verify for anyone who followed the hand-over.
stop_gateway
cp "$DEP/log.key" "$WORK/current.key"
cp "$PRISTINE/log.key" "$DEP/log.key"
out=$("$SERAMBI" serve --config "$DEP/serambi.toml" 2>&1)
contains "a start with the retired key is refused, saying so" "is the key retired at entry" "$out"
cp "$WORK/current.key" "$DEP/log.key"

# Twice more: the old key's holder follows every hand-over.
check "a second rotation" "$SERAMBI" keys rotate-log --config "$DEP/serambi.toml"
check "a third rotation" "$SERAMBI" keys rotate-log --config "$DEP/serambi.toml"
start_gateway
check "a push after three rotations" "$SERAMBI" push dinkes-malut/gizi "$WORK/a.csv" --allow-duplicate -q --profile "$P"
out=$(verifies_from_old_key 2>&1)
same "the log verifies from the first key across three hand-overs" 0 "$?"
contains "and says so" "handed over 3 times" "$out"
"$SERAMBI" push dinkes-malut/gizi "$WORK/a.csv" --allow-duplicate -q --profile "$P" >/dev/null
check "the witness follows them all" wait_for 20 witnessed_beyond "$(handover_size)"

# A witness set up after the rotations with the current key only: the hand-overs it cannot check
# are no reason to hold back the newest checkpoint, which it cosigns.
W2PORT=$(free_port)
W2=$WORK/witness2
"$SERAMBI" audit key --profile "$A" >"$WORK/third.vkey"
"$SERAMBI" witness init "$W2" --name bssn.example.go.id/witness --listen "127.0.0.1:$W2PORT" \
    --log-key "$WORK/third.vkey" >/dev/null
"$SERAMBI" witness serve --config "$W2/witness.toml" >>"$WORK/witness2.log" 2>&1 &
W2_PID=$!
trap 'stop_witness; kill "$W2_PID" 2>/dev/null; cleanup' EXIT
wait_for 10 curl -sf "http://127.0.0.1:$W2PORT/key" || { echo "the second witness did not start"; exit 1; }
stop_gateway
printf '\n[[witness]]\nurl = "http://127.0.0.1:%s"\nkey = "%s"\n' "$W2PORT" "$(cat "$W2/witness.vkey")" >>"$DEP/serambi.toml"
start_gateway
"$SERAMBI" push dinkes-malut/gizi "$WORK/a.csv" --allow-duplicate -q --profile "$P" >/dev/null
witnessed2() { "$SERAMBI" audit checkpoint --witness "$W2/witness.vkey" --profile "$A" >/dev/null 2>&1; }
check "a witness given only the current key cosigns the newest checkpoint" wait_for 20 witnessed2
stop_gateway

# The first witness's operator names a key in witness.toml after it followed hand-overs (say,
# because the key it followed leaked): the configuration wins, and says so.
stop_witness
sed -i "s|^key = \"$(cut -d+ -f1 "$WORK/old.vkey")+.*|key = \"$(cat "$WORK/third.vkey")\"|" "$W/witness.toml"
start_witness
contains "a witness whose configuration names another key uses it, and says so" "using the configured key" \
    "$(cat "$WORK/witness.log")"
check "serambi fsck finds the deployment consistent" "$SERAMBI" fsck --config "$DEP/serambi.toml" --deep

# The rotation signs with the key auditors trust, so never over a database older than what the
# state file says was published: an older copy put back is refused, and nothing changes.
cp "$DEP/serambi.db" "$WORK/older.db"
start_gateway
"$SERAMBI" push dinkes-malut/gizi "$WORK/a.csv" --allow-duplicate -q --profile "$P" >/dev/null
stop_gateway
cp -a "$DEP" "$WORK/current-dep"
cp "$WORK/older.db" "$DEP/serambi.db"
rm -f "$DEP/serambi.db-wal" "$DEP/serambi.db-shm"
KEY_BEFORE=$(sha256sum <"$DEP/log.key")
refuse_saying "a rotation over a database behind the state file is refused" "does not extend the checkpoint" \
    "$SERAMBI" keys rotate-log --config "$DEP/serambi.toml"
same "and the key is untouched" "$KEY_BEFORE" "$(sha256sum <"$DEP/log.key")"
check "and no new key is left beside it" test ! -e "$DEP/log.key.next"
# A whole deployment from before the rotations, started with today's key: its checkpoints were
# signed by another key, and nothing in its log hands over to this one.
rm -rf "$DEP" && cp -a "$PRISTINE" "$DEP"
cp "$WORK/current-dep/log.key" "$DEP/log.key"
out=$("$SERAMBI" serve --config "$DEP/serambi.toml" 2>&1)
contains "a database from before a rotation with the rotated key is refused at start" \
    "did not sign this database's latest checkpoint" "$out"
rm -rf "$DEP" && mv "$WORK/current-dep" "$DEP"

# A backup after the rotations names the retired keys: an auditor's checkpoint from before them
# is still evidence for a restore.
check "a backup of the rotated deployment" "$SERAMBI" backup --config "$DEP/serambi.toml" --out "$WORK/backup"
out=$("$SERAMBI" restore --from "$WORK/backup" --to "$WORK/restored" --ca "$DEP/pki/ca.crt" \
    --latest-checkpoint "$WORK/before.checkpoint" 2>&1)
same "a restore takes the first key's checkpoint as evidence, and it is no rollback" 0 "$?"
refuse_saying "a file that is no checkpoint of this log is refused" "not a checkpoint signed by this gateway's log key" \
    "$SERAMBI" restore --from "$WORK/backup" --to "$WORK/restored2" --ca "$DEP/pki/ca.crt" \
    --latest-checkpoint "$W/witness.vkey"
finish
