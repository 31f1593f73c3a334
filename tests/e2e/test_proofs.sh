# Proofs for everyone about their own requests (C2SP tlog-proof): a producer's push and a
# partner's pull each leave a proof file that verifies offline with the log's key alone; nobody
# but an auditor gets the proof of someone else's entry.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal bi-malut partner
add_principal telkom partner
add_principal inspektorat auditor
"$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title "Fasilitas kesehatan" --profile "$ADMIN" >/dev/null
P=$WORK/dinkes-malut
"$SERAMBI" audit key --profile "$WORK/inspektorat" > "$WORK/log.vkey"

mkdir -p "$WORK/out"
printf 'kode,nama\n1,RSUD Chasan Boesoirie\n' > "$WORK/out/faskes.csv"
receipt=$("$SERAMBI" push dinkes-malut/faskes "$WORK/out/faskes.csv" --profile "$P" 2>"$WORK/push.err")
ID=$(echo "$receipt" | json_field package_id)
INDEX=$(echo "$receipt" | json_field audit_index)
PROOF=$WORK/out/faskes.csv.$INDEX.tlog-proof
check "push leaves its proof beside the file, named by its entry" test -s "$PROOF"
same "the proof is the user's alone (0600)" 600 "$(stat -c %a "$PROOF")"
contains "push says where the proof is" "faskes.csv.$INDEX.tlog-proof" "$(cat "$WORK/push.err")"
same "the proof is a C2SP tlog-proof" "c2sp.org/tlog-proof@v1" "$(head -1 "$PROOF")"
same "the proof names the receipt's index" "index $INDEX" "$(sed -n 3p "$PROOF")"
out=$("$SERAMBI" verify "$PROOF" --log-key "$WORK/log.vkey" 2>&1)
contains "the producer verifies its push offline from the proof alone" "OK: entry $INDEX" "$out"
contains "the verified entry is the push" "package.push" "$out"
check "the proof also checks the package and its push together" "$SERAMBI" verify "$WORK/out/faskes.csv" \
    --manifest <(api "$P" "$URL/v1/packages/$ID/manifest") --signature <(api "$P" "$URL/v1/packages/$ID/manifest.p7s") \
    --ca "$P/ca.crt" --log-key "$WORK/log.vkey" --proof "$PROOF" --audit-index "$INDEX"

# An altered proof, entry or key fails.
python3 - "$PROOF" "$WORK/forged.tlog-proof" <<'PYEOF'
import base64, sys
lines = open(sys.argv[1]).read().split("\n")
entry = base64.b64decode(lines[1][6:]).replace(b"package.push", b"package.pull")
lines[1] = "extra " + base64.b64encode(entry).decode()
open(sys.argv[2], "w").write("\n".join(lines))
PYEOF
refuse_saying "an edited entry does not verify" "FAILED" "$SERAMBI" verify "$WORK/forged.tlog-proof" --log-key "$WORK/log.vkey"
sed "3s/.*/index $((INDEX + 1))/" "$PROOF" > "$WORK/moved.tlog-proof"
refuse "a proof moved to another index does not verify" "$SERAMBI" verify "$WORK/moved.tlog-proof" --log-key "$WORK/log.vkey"
# A key of the same name that is not the log's: a well-formed vkey over random key bytes.
python3 - "$WORK/log.vkey" "$WORK/other.vkey" <<'PYEOF'
import base64, hashlib, os, sys
name = open(sys.argv[1]).read().split("+")[0]
key = b"\x01" + os.urandom(32)
digest = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
open(sys.argv[2], "w").write(name + "+" + digest.hex() + "+" + base64.b64encode(key).decode() + "\n")
PYEOF
refuse_saying "another key of the log's name does not verify it" "signed" "$SERAMBI" verify "$PROOF" --log-key "$WORK/other.vkey"
head -c 40 "$PROOF" > "$WORK/cut.tlog-proof"
refuse_saying "a cut proof is refused with a clear error" "tlog-proof" "$SERAMBI" verify "$WORK/cut.tlog-proof" --log-key "$WORK/log.vkey"
refuse "a proof of the push without --log-key is refused" "$SERAMBI" verify "$PROOF"

# A partner's pull leaves the proof of the pull.
check "a partner pulls" "$SERAMBI" pull "$ID" -o "$WORK/bi.csv" -q --profile "$WORK/bi-malut"
check "the pull leaves its proof beside the output" test -s "$WORK/bi.csv.tlog-proof"
out=$("$SERAMBI" verify "$WORK/bi.csv.tlog-proof" --log-key "$WORK/log.vkey" 2>&1)
contains "the pull's proof verifies" "OK: entry" "$out"
contains "it proves the partner's own pull" "bi-malut package.pull" "$out"
PULL_INDEX=$(sed -n 3p "$WORK/bi.csv.tlog-proof" | cut -d' ' -f2)

# Only one's own entries, and auditors any.
same "the producer fetches the proof of its push" 200 "$(status "$P" "$URL/v1/log/proof?index=$INDEX")"
same "another partner cannot fetch the proof of that pull (404)" 404 "$(status "$WORK/telkom" "$URL/v1/log/proof?index=$PULL_INDEX")"
same "nor can the producer" 404 "$(status "$P" "$URL/v1/log/proof?index=$PULL_INDEX")"
same "an entry that does not exist is the same 404" 404 "$(status "$WORK/telkom" "$URL/v1/log/proof?index=99999999")"
same "the partner fetches its own" 200 "$(status "$WORK/bi-malut" "$URL/v1/log/proof?index=$PULL_INDEX")"
same "an auditor fetches anyone's" 200 "$(status "$WORK/inspektorat" "$URL/v1/log/proof?index=$PULL_INDEX")"
refuse "serambi proof will not fetch another's entry" "$SERAMBI" proof --index "$PULL_INDEX" --profile "$WORK/telkom"
check "serambi proof fetches one's own again" "$SERAMBI" proof --index "$INDEX" -o "$WORK/again.tlog-proof" --profile "$P"
check "and it verifies" "$SERAMBI" verify "$WORK/again.tlog-proof" --log-key "$WORK/log.vkey"
same "a malformed query is a 400" 400 "$(status "$P" "$URL/v1/log/proof?index=1&request=abc")"
same "a request id that is not hex is a 400" 400 "$(status "$P" "$URL/v1/log/proof?request=zz%27")"
same "no entry named at all is a 400" 400 "$(status "$P" "$URL/v1/log/proof")"
# The refusal is itself recorded, with the policy's reason.
wait_for 5 bash -c "'$SERAMBI' audit tail -n 40 --profile '$WORK/inspektorat' | grep -q 'proofs of its own requests only'"
check "a refused proof is in the access log with the policy's reason" bash -c \
    "'$SERAMBI' audit tail -n 40 --profile '$WORK/inspektorat' | grep 'log.proof' | grep -q 'proofs of its own requests only'"

# --no-proof leaves none.
printf 'x\n' > "$WORK/out/quiet.csv"
"$SERAMBI" push dinkes-malut/faskes "$WORK/out/quiet.csv" --no-proof --profile "$P" >/dev/null 2>&1
refuse "push --no-proof keeps no proof" bash -c "ls '$WORK/out' | grep -q '^quiet.csv.*tlog-proof'"
# A second push of the same file keeps its own proof beside the first.
INDEX2=$("$SERAMBI" push dinkes-malut/faskes "$WORK/out/faskes.csv" --allow-duplicate -q --profile "$P" | json_field audit_index)
check "a second push of the same file keeps its own proof" test -s "$WORK/out/faskes.csv.$INDEX2.tlog-proof"
check "and the first one is still there" test -s "$WORK/out/faskes.csv.$INDEX.tlog-proof"
finish
