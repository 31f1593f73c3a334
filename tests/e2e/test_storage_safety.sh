# A damaged database never costs a package, and a restored older one is noticed at start:
# emptied or bit-flipped databases stop the start with every blob left in place; blobs without a
# row go to quarantine, not away; a database behind the state file (published checkpoint, revoked
# serials) is refused until the operator accepts it, and then revoked certificates stay revoked.
source "$(dirname "$0")/lib.sh"
init_deployment
check "init writes the state file" test -f "$DEP/gateway.state"
start_gateway
add_principal dinkes-malut producer
add_principal bi-malut partner
add_principal inspektorat auditor
P=$WORK/dinkes-malut
A=$WORK/inspektorat
"$SERAMBI" dataset create dinkes-malut/imunisasi --class biasa --title "Imunisasi" --profile "$ADMIN" >/dev/null
for i in 1 2 3; do
    head -c $((70000 * i)) /dev/urandom > "$WORK/p$i.bin"
    "$SERAMBI" push dinkes-malut/imunisasi "$WORK/p$i.bin" --profile "$P" | json_field package_id > "$WORK/id$i"
done
same "three packages stored" 3 "$(blob_count)"
check "fsck finds a healthy deployment consistent, beside the running gateway" "$SERAMBI" fsck --config "$DEP/serambi.toml"
stop_gateway
cp "$DEP/serambi.db" "$WORK/good.db"
serve_once() { timeout 20 "$SERAMBI" serve --config "$DEP/serambi.toml" "$@"; }

# ---- An emptied database: refused, nothing moved.
: > "$DEP/serambi.db"
refuse_saying "an emptied database stops the start" "lacks the Serambi schema" serve_once
same "every blob is still in place" 3 "$(blob_count)"
check "and nothing went to quarantine" test ! -e "$DEP/blobs/quarantine"
refuse_saying "fsck reports the emptied database" "PROBLEM" "$SERAMBI" fsck --config "$DEP/serambi.toml"

# ---- One bit flipped, anywhere in the file: refused, nothing moved.
for where in 0.5 0.9; do
    cp "$WORK/good.db" "$DEP/serambi.db"
    python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); i=int(len(b)*float(sys.argv[2])); b[i]^=0x08; open(p,"wb").write(b)' \
        "$DEP/serambi.db" "$where"
    refuse_saying "a bit flipped at $where of the database stops the start" "damaged" serve_once
    same "every blob is still in place ($where)" 3 "$(blob_count)"
    refuse "fsck reports the flipped bit ($where)" "$SERAMBI" fsck --config "$DEP/serambi.toml"
done
check "still nothing in quarantine" test ! -e "$DEP/blobs/quarantine"

# ---- The intact database back: everything is there.
cp "$WORK/good.db" "$DEP/serambi.db"
start_gateway
for i in 1 2 3; do
    check "package $i pulls after the damaged starts" "$SERAMBI" pull "$(cat "$WORK/id$i")" -o "$WORK/back$i.bin" --profile "$P" -q
    check "and is identical ($i)" cmp "$WORK/p$i.bin" "$WORK/back$i.bin"
done

# ---- Rollback: a copy taken now, then a revocation for key compromise and another package.
stop_gateway
cp "$DEP/serambi.db" "$WORK/old.db"
start_gateway
BI_SERIAL=$(openssl x509 -in "$WORK/bi-malut/client.crt" -noout -serial | cut -d= -f2)
check "the partner's certificate is revoked for key compromise" "$SERAMBI" principal revoke bi-malut --reason keyCompromise --profile "$ADMIN"
head -c 90000 /dev/urandom > "$WORK/p4.bin"
P4=$("$SERAMBI" push dinkes-malut/imunisasi "$WORK/p4.bin" --profile "$P" | json_field package_id)
"$SERAMBI" audit checkpoint --profile "$A" > "$WORK/published.cp"
stop_gateway
# The last checkpoint is signed as the gateway stops, after the one the auditor saved.
PUBLISHED=$(awk '$1 == "checkpoint" {print $2}' "$DEP/gateway.state")
check "the state file holds the last checkpoint, at least the one the auditor saw" test "$PUBLISHED" -ge "$(sed -n 2p "$WORK/published.cp")"
contains "the state file holds the revoked serial" "revoked $BI_SERIAL" "$(cat "$DEP/gateway.state")"

cp "$WORK/old.db" "$DEP/serambi.db"; rm -f "$DEP/serambi.db-wal" "$DEP/serambi.db-shm"
OUT=$(serve_once 2>&1); rc=$?
check "the older database stops the start" test "$rc" -ne 0
contains "and the message says the log is behind the published checkpoint" "already signed a checkpoint of $PUBLISHED" "$OUT"
contains "and names the revoked certificate the database forgot" "$BI_SERIAL" "$OUT"
contains "and names the override" "--accept-rollback" "$OUT"
same "no blob was moved by the refused start" 4 "$(blob_count)"
FSCK=$("$SERAMBI" fsck --config "$DEP/serambi.toml"); rc=$?
check "fsck fails on the rolled-back database" test "$rc" -ne 0
contains "fsck names the forgotten revocation" "certificate $BI_SERIAL was revoked" "$FSCK"
contains "fsck names the package blob the database does not know" "$P4.blob belongs to no package" "$FSCK"

start_gateway --accept-rollback
refuse "the certificate revoked before the restore is still refused at the handshake" \
    curl -sS --fail --cacert "$ADMIN/ca.crt" --cert "$WORK/bi-malut/client.crt" --key "$WORK/bi-malut/client.key" "$URL/healthz"
check "the package the old database did not know is kept in quarantine" test -f "$DEP/blobs/quarantine/$P4.blob"
same "it is out of the store" 3 "$(blob_count)"
"$SERAMBI" audit export -o "$WORK/after.jsonl" --profile "$A" >/dev/null 2>&1
contains "the accepted rollback is in the access log, with both sizes" "published checkpoint size $PUBLISHED" \
    "$(grep '"action":"gateway.rollback"' "$WORK/after.jsonl")"
contains "the revocation was made again, in the log" "revoked again after an accepted rollback" \
    "$(grep '"action":"certificate.revoke"' "$WORK/after.jsonl")"
contains "the quarantined blob is in the log" "\"resource\":\"blobs/$P4.blob\"" "$(grep '"action":"storage.quarantine"' "$WORK/after.jsonl")"
contains "the database knows the revocation again" "$BI_SERIAL" "$(api "$ADMIN" "$URL/v1/pki/crl" | openssl crl -inform DER -noout -text 2>/dev/null)"
stop_gateway
check "the next start needs no override (the state file was rewritten)" start_gateway
stop_gateway

# ---- A missing state file: the database cannot vouch for itself, so the start needs the operator.
rm "$DEP/gateway.state"
refuse_saying "without its state file the gateway does not start on a used database" "is missing" serve_once
start_gateway --accept-rollback
check "with --accept-rollback the state file is made again" test -f "$DEP/gateway.state"
contains "and its absence is an access-log entry" "was absent" "$("$SERAMBI" audit tail -n 20 --profile "$A")"
stop_gateway
check "the next start needs no flag" start_gateway
stop_gateway
echo garbage > "$DEP/gateway.state"
refuse_saying "a damaged state file stops the start" "state file" serve_once
finish
