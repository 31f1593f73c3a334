# Backup and restore as the operator guide (section 10) tells it: a backup taken beside a gateway
# under load, restored into a fresh directory, where every package pulls and the access log
# verifies; a damaged or incomplete backup refused with what is wrong; an older backup restored
# after newer checkpoints were published named a rollback, at the restore and at the start.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal inspektorat auditor
P=$WORK/dinkes-malut
A=$WORK/inspektorat
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title "Status gizi" --profile "$ADMIN" >/dev/null
head -c 300000 /dev/urandom >"$WORK/large.bin"      # a blob file of its own
printf 'kode,nilai\n1,2\n' >"$WORK/small.csv"       # kept in the database
IDS=()
for f in large.bin small.csv; do
    IDS+=("$("$SERAMBI" push dinkes-malut/gizi "$WORK/$f" --no-proof -q --profile "$P" | json_field package_id)")
done
"$SERAMBI" audit key --profile "$A" >"$WORK/log.vkey"

# The age identity the secret keys are encrypted to; it lives with the operator, not the backup.
"$SERAMBI" age keygen -o "$WORK/backup-age.key" >/dev/null 2>&1
RECIPIENT=$("$SERAMBI" age recipient -i "$WORK/backup-age.key")

# ---- Backup while a producer keeps pushing.
( for i in $(seq 1 40); do
      printf 'baris,%s\n' "$i" >"$WORK/load-$i.csv"
      "$SERAMBI" push dinkes-malut/gizi "$WORK/load-$i.csv" --no-proof -q --profile "$P" >/dev/null 2>&1
  done ) &
LOAD=$!
sleep 0.5
B=$WORK/backup
check "serambi backup runs beside the loaded gateway" \
    "$SERAMBI" backup --config "$DEP/serambi.toml" --out "$B" --include-secrets --to "$RECIPIENT"
wait "$LOAD"
check "the gateway kept serving during the backup" kill -0 "$GW_PID"
check "the backup has a manifest and its signature" test -s "$B/backup.json" -a -s "$B/backup.json.sig"
check "openssl verifies the manifest's signature under the gateway's CA" \
    openssl cms -verify -binary -inform DER -in "$B/backup.json.sig" -content "$B/backup.json" \
    -CAfile "$DEP/pki/ca.crt" -purpose any -out /dev/null
check "sha256sum agrees with every file the manifest lists" bash -c "cd '$B' && python3 -c '
import json,sys
for f in json.load(open(\"backup.json\"))[\"files\"]: print(f[\"sha256\"] + \"  \" + f[\"path\"])
' | sha256sum --quiet -c -"
MASTER_HEX=$(tr -d '\n' <"$DEP/master.key")
refuse "no secret key is in the backup in the clear" grep -rqF "$MASTER_HEX" "$B"
refuse "no private key PEM is in the backup in the clear" grep -rq "PRIVATE KEY" "$B"
check "the secret keys are age files" test -s "$B/secrets/master.key.age" -a -s "$B/secrets/pki/ca.key.age"
check "the stock age tool opens them with the operator's identity" \
    bash -c "age -d -i '$WORK/backup-age.key' '$B/secrets/master.key.age' | cmp -s - '$DEP/master.key'"
check "every backed-up file is private to its owner (directories 0700)" \
    test "$(find "$B" -type d ! -perm 700 | wc -l)" = 0
BACKUP_SIZE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["log_size"])' "$B/backup.json")

# ---- Refusals that change nothing.
refuse_saying "--include-secrets without --to is refused" "--to" \
    "$SERAMBI" backup --config "$DEP/serambi.toml" --out "$WORK/b2" --include-secrets
check "and leaves no directory behind" test ! -e "$WORK/b2"
refuse_saying "a backup never goes into a directory that holds something" "not empty" \
    "$SERAMBI" backup --config "$DEP/serambi.toml" --out "$B"
refuse_saying "a recipient that is not age1… is refused" "not an age" \
    "$SERAMBI" backup --config "$DEP/serambi.toml" --out "$WORK/b3" --include-secrets --to "ssh-ed25519 AAAA"
check "serambi restore --check passes on the untouched backup" "$SERAMBI" restore --from "$B" --check

cp -a "$B" "$WORK/damaged"
BLOB=$(cd "$WORK/damaged" && find blobs -name '*.blob' | head -1)
printf 'X' | dd of="$WORK/damaged/$BLOB" bs=1 seek=100 conv=notrunc 2>/dev/null
rm "$WORK/damaged/policy.toml"
out=$("$SERAMBI" restore --from "$WORK/damaged" --to "$WORK/r-damaged" --ca "$ADMIN/ca.crt" --identity "$WORK/backup-age.key" 2>&1)
same "a damaged backup is refused" 1 "$?"
contains "naming the damaged blob" "damaged (size or SHA-256 differs from the manifest): $BLOB" "$out"
contains "and the missing file" "missing: policy.toml" "$out"
check "and nothing is restored" test ! -e "$WORK/r-damaged"

cp -a "$B" "$WORK/edited"
sed -i 's/"log_size":[0-9]*/"log_size":999999/' "$WORK/edited/backup.json"
refuse_saying "an edited manifest fails its signature" "not signed by this gateway" \
    "$SERAMBI" restore --from "$WORK/edited" --to "$WORK/r-edited" --ca "$ADMIN/ca.crt" --identity "$WORK/backup-age.key"
"$SERAMBI" init "$WORK/other" --listen 127.0.0.1:1 >/dev/null 2>&1
refuse_saying "with --ca, a backup signed under another CA is refused" "not signed by this gateway" \
    "$SERAMBI" restore --from "$B" --check --ca "$WORK/other/pki/ca.crt"
refuse_saying "a restore needs the CA the operator trusts, not the backup's own" "give --ca" \
    "$SERAMBI" restore --from "$B" --to "$WORK/r-noca" --identity "$WORK/backup-age.key"
refuse_saying "the encrypted keys need the identity" "--identity" \
    "$SERAMBI" restore --from "$B" --to "$WORK/r-noid" --ca "$ADMIN/ca.crt"
"$SERAMBI" age keygen -o "$WORK/wrong-age.key" >/dev/null 2>&1
refuse_saying "a wrong identity opens nothing" "no identity matches" \
    "$SERAMBI" restore --from "$B" --to "$WORK/r-wrong" --ca "$ADMIN/ca.crt" --identity "$WORK/wrong-age.key"
check "and leaves nothing behind" test ! -e "$WORK/r-wrong"
mkdir -p "$WORK/occupied" && touch "$WORK/occupied/keep-me"
refuse_saying "restore never writes into a directory that holds something" "never overwrites" \
    "$SERAMBI" restore --from "$B" --to "$WORK/occupied" --ca "$ADMIN/ca.crt" --identity "$WORK/backup-age.key"
check "whose contents stay" test -e "$WORK/occupied/keep-me"
mkdir -p "$WORK/empty-before"
refuse "a failed restore into an empty directory made beforehand" \
    "$SERAMBI" restore --from "$B" --to "$WORK/empty-before" --ca "$ADMIN/ca.crt" --identity "$WORK/wrong-age.key"
check "leaves that directory, empty" test -d "$WORK/empty-before" -a -z "$(ls -A "$WORK/empty-before")"

# A manifest signed with the gateway's own key (a bug, or an insider) still cannot lead out of
# the new directory.
resign() { # DIR: signs DIR/backup.json again with the deployment's signing key
    openssl cms -sign -binary -outform DER -in "$1/backup.json" -signer "$DEP/pki/signing.crt" \
        -inkey "$DEP/pki/signing.key" -out "$1/backup.json.sig" -nosmimecap
}
hostile() { # NAME PYTHON-EDIT-OF-m: a copy of the backup with its manifest edited and signed again
    cp -a "$B" "$WORK/$1"
    python3 - "$WORK/$1/backup.json" "$2" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(m) + "\n")
PYEOF
    resign "$WORK/$1"
}
hostile hostile-escape 'm["files"].append({"path": "../escape", "role": "blob", "size": 1, "sha256": "0" * 64})'
refuse_saying "a manifest naming ../ is refused" "malformed file entry" \
    "$SERAMBI" restore --from "$WORK/hostile-escape" --to "$WORK/r-escape" --ca "$ADMIN/ca.crt" --identity "$WORK/backup-age.key"
check "and nothing lands beside the target" test ! -e "$WORK/escape" -a ! -e "$WORK/r-escape"
hostile negative 'm["files"][0]["size"] = -1'
refuse_saying "a negative size is refused, not a crash" "malformed file entry" \
    "$SERAMBI" restore --from "$WORK/negative" --check --ca "$ADMIN/ca.crt"
hostile duplicate 'm["files"].append(dict(m["files"][0]))'
refuse_saying "a file listed twice is refused" "malformed file entry" \
    "$SERAMBI" restore --from "$WORK/duplicate" --check --ca "$ADMIN/ca.crt"
cp -a "$B" "$WORK/outside"
sed -i "s|^state = .*|state = \"$WORK/victim.state\"|" "$WORK/outside/serambi.toml"
python3 - "$WORK/outside" <<'PYEOF'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/backup.json"))
for f in m["files"]:
    if f["path"] == "serambi.toml":
        data = open(d + "/serambi.toml", "rb").read()
        f["size"], f["sha256"] = len(data), hashlib.sha256(data).hexdigest()
open(d + "/backup.json", "w").write(json.dumps(m) + "\n")
PYEOF
resign "$WORK/outside"
echo "the old gateway's state" >"$WORK/victim.state"
refuse_saying "a configuration that points out of the new directory is refused" "outside" \
    "$SERAMBI" restore --from "$WORK/outside" --to "$WORK/r-outside" --ca "$ADMIN/ca.crt" --identity "$WORK/backup-age.key"
same "and the file it pointed at is untouched" "the old gateway's state" "$(cat "$WORK/victim.state")"
check "and nothing is restored" test ! -e "$WORK/r-outside"

# ---- The restore proper, on a fresh directory, while the old gateway goes on.
R=$WORK/restored
out=$("$SERAMBI" restore --from "$B" --to "$R" --ca "$ADMIN/ca.crt" --identity "$WORK/backup-age.key")
same "serambi restore puts the backup in a new directory" 0 "$?"
contains "and says it could not check for a rollback without evidence" "rollback NOT checked" "$out"
check "the restored keys are 0600" test "$(stat -c %a "$R/master.key") $(stat -c %a "$R/pki/ca.key")" = "600 600"
check "serambi fsck finds the restored deployment consistent" "$SERAMBI" fsck --config "$R/serambi.toml"

# More is pushed and published after the backup: restoring the backup is now a rollback.
for i in $(seq 1 30); do
    "$SERAMBI" push dinkes-malut/gizi "$WORK/small.csv" --allow-duplicate --no-proof -q --profile "$P" >/dev/null
done
"$SERAMBI" audit checkpoint --profile "$A" >"$WORK/after.checkpoint"
B2=$WORK/backup-later
check "a later backup" "$SERAMBI" backup --config "$DEP/serambi.toml" --out "$B2" --include-secrets --to "$RECIPIENT"
stop_gateway
R2=$WORK/restored-late
out=$("$SERAMBI" restore --from "$B" --to "$R2" --ca "$ADMIN/ca.crt" --identity "$WORK/backup-age.key" --latest-checkpoint "$WORK/after.checkpoint" 2>&1)
same "restoring an old backup after newer checkpoints exits 3 (restored, but a rollback)" 3 "$?"
contains "naming the rollback, with both sizes" "holds $BACKUP_SIZE" "$out"
contains "and the newer checkpoint" "ROLLBACK" "$out"
out=$("$SERAMBI" restore --from "$B" --check --ca "$ADMIN/ca.crt" --state "$DEP/gateway.state" 2>&1)
same "--check with the old state file says so too" 3 "$?"
contains "naming the state file" "the state file $DEP/gateway.state" "$out"
sed 's/^[0-9][0-9]*$/999999/' "$WORK/after.checkpoint" >"$WORK/forged.checkpoint"
refuse_saying "a checkpoint whose size was raised by hand is refused" "not a checkpoint signed by this gateway's log key" \
    "$SERAMBI" restore --from "$B" --check --latest-checkpoint "$WORK/forged.checkpoint"
check "(the forged one did differ)" bash -c "! cmp -s '$WORK/after.checkpoint' '$WORK/forged.checkpoint'"

# The first restore starts (on the old one's port: the old gateway is stopped), every package
# pulls and the access log verifies.
OLD_DEP=$DEP
DEP=$R
start_gateway
for id in "${IDS[@]}"; do
    check "package $id pulls from the restored gateway" \
        "$SERAMBI" pull "$id" -o "$WORK/pulled-$id" -q --no-proof --profile "$P"
done
check "the large payload is byte for byte the pushed one" cmp "$WORK/pulled-${IDS[0]}" "$WORK/large.bin"
check "the auditor exports the restored access log" "$SERAMBI" audit export -o "$WORK/restored.jsonl" --profile "$A"
check "audit verify accepts it against the log key kept before" \
    "$SERAMBI" audit verify --export "$WORK/restored.jsonl" --checkpoint "$WORK/restored.jsonl.checkpoint" --key "$WORK/log.vkey"
check "and it extends the backup's own checkpoint" \
    "$SERAMBI" audit verify --export "$WORK/restored.jsonl" --checkpoint "$WORK/restored.jsonl.checkpoint" --key "$WORK/log.vkey" --previous "$B/checkpoint"
# This restored gateway has now written a history of its own after the backup's: the later
# backup's log and this one's checkpoint are two histories of one log.
"$SERAMBI" audit checkpoint --profile "$A" >"$WORK/diverged.checkpoint"
stop_gateway
DIVERGED=$(sed -n 2p "$WORK/diverged.checkpoint")
LATER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["log_size"])' "$B2/backup.json")
check "(the diverged checkpoint, $DIVERGED entries, lies within the later backup's $LATER)" test "$DIVERGED" -le "$LATER"
refuse_saying "restoring a backup that a known checkpoint contradicts is refused as a fork" "FORK" \
    "$SERAMBI" restore --from "$B2" --to "$WORK/r-fork" --ca "$ADMIN/ca.crt" --identity "$WORK/backup-age.key" \
    --latest-checkpoint "$WORK/diverged.checkpoint"
check "and nothing is restored" test ! -e "$WORK/r-fork"

# The late restore: the start refuses, saying so, until the rollback is accepted and recorded.
DEP=$R2
"$SERAMBI" serve --config "$R2/serambi.toml" >"$WORK/r2.log" 2>&1
same "the gateway refuses to start on the rolled-back log" 1 "$?"
contains "naming both sizes" "its access log has $BACKUP_SIZE entries" "$(cat "$WORK/r2.log")"
start_gateway --accept-rollback
"$SERAMBI" audit export -o "$WORK/late.jsonl" --profile "$A" 2>/dev/null
contains "--accept-rollback records the rollback in the access log" '"action":"gateway.rollback"' "$(cat "$WORK/late.jsonl")"
stop_gateway
DEP=$OLD_DEP

# ---- Without --include-secrets the backup holds no key at all, and the restore says what to put back.
B3=$WORK/backup-plain
check "a backup without secrets" "$SERAMBI" backup --config "$DEP/serambi.toml" --out "$B3"
check "holds no key file" test -z "$(find "$B3" -name '*.key' -o -name '*.age')"
out=$("$SERAMBI" restore --from "$B3" --to "$WORK/r-plain" --ca "$ADMIN/ca.crt" 2>&1)
contains "and its restore names the keys to bring back" "master.key, log.key" "$out"
finish
