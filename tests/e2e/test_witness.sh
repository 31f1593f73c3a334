# Witnesses (C2SP tlog-witness, tlog-cosignature): a separate service cosigns the gateway's
# checkpoints only while each extends the last it cosigned. An honest gateway's checkpoints are
# cosigned; a rolled-back one is refused, loudly, and keeps being refused after the witness
# restarts from its state file; the gateway keeps serving while a witness is down.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal inspektorat auditor
"$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title "Fasilitas kesehatan" --profile "$ADMIN" >/dev/null
P=$WORK/dinkes-malut
A=$WORK/inspektorat
"$SERAMBI" audit key --profile "$A" > "$WORK/log.vkey"

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

check "witness init creates a witness" "$SERAMBI" witness init "$W" --name inspektorat.example.go.id/witness \
    --listen "127.0.0.1:$WPORT" --log-key "$WORK/log.vkey"
same "its key is private (0600)" 600 "$(stat -c %a "$W/witness.key")"
refuse_saying "a second init over it is refused" "exists already" "$SERAMBI" witness init "$W" --name x/y --log-key "$WORK/log.vkey"
"$SERAMBI" witness init "$WORK/witness2" >/dev/null
contains "a witness's name defaults to its host's" "$(hostname)/witness+" "$(cat "$WORK/witness2/witness.vkey")"
refuse_saying "a witness that follows no log does not start, and says how to add one" "witness add-log" \
    "$SERAMBI" witness serve --config "$WORK/witness2/witness.toml"
check "witness add-log follows the log" "$SERAMBI" witness add-log --config "$WORK/witness2/witness.toml" --log-key "$WORK/log.vkey"
refuse_saying "a log followed already is refused" "already" \
    "$SERAMBI" witness add-log --config "$WORK/witness2/witness.toml" --log-key "$WORK/log.vkey"
refuse "a witness key is not a log key" "$SERAMBI" witness add-log --config "$WORK/witness2/witness.toml" --log-key "$W/witness.vkey"
refuse_saying "witness serve refuses a key file others may read" "chmod" bash -c \
    "chmod 644 '$WORK/witness2/witness.key' && '$SERAMBI' witness serve --config '$WORK/witness2/witness.toml'"
start_witness
same "the witness serves its verifier key" "$(cat "$W/witness.vkey")" "$(curl -s "http://127.0.0.1:$WPORT/key")"

# The gateway names the witness and submits every new checkpoint to it.
stop_gateway
printf '\n[[witness]]\nurl = "http://127.0.0.1:%s"\nkey = "%s"\n' "$WPORT" "$(cat "$W/witness.vkey")" >> "$DEP/serambi.toml"
start_gateway
printf 'kode,nama\n1,RSUD\n' > "$WORK/a.csv"
INDEX=$("$SERAMBI" push dinkes-malut/faskes "$WORK/a.csv" -q --profile "$P" | json_field audit_index)
check "the newest checkpoint gets the witness's cosignature" wait_for 15 \
    "$SERAMBI" audit checkpoint --witness "$W/witness.vkey" --profile "$A"
"$SERAMBI" audit checkpoint --witness "$W/witness.vkey" --profile "$A" > "$WORK/cosigned" 2>/dev/null
contains "the cosigned checkpoint carries the witness's line" "— inspektorat.example.go.id/witness " "$(cat "$WORK/cosigned")"

# The cosignature checked by an independent Ed25519 implementation: openssl, over the message
# C2SP tlog-cosignature defines.
check "openssl verifies the cosignature over cosignature/v1, the time and the checkpoint body" python3 - \
    "$WORK/cosigned" "$W/witness.vkey" "$WORK" <<'PYEOF'
import base64, subprocess, sys
note = open(sys.argv[1]).read()
vkey = open(sys.argv[2]).read().strip()
work = sys.argv[3]
body, sigs = note.split("\n\n", 1)
body += "\n"
name, keyhash, key = vkey.split("+", 2)
raw_key = base64.b64decode(key)
assert raw_key[0] == 4 and len(raw_key) == 33
line = [l for l in sigs.splitlines() if l.startswith("\u2014 " + name + " ")][0]
raw = base64.b64decode(line.split(" ")[2])
assert raw[:4].hex() == keyhash
time = int.from_bytes(raw[4:12], "big")
open(work + "/msg", "wb").write(("cosignature/v1\ntime %d\n" % time + body).encode())
open(work + "/sig", "wb").write(raw[12:])
der = bytes.fromhex("302a300506032b6570032100") + raw_key[1:]
open(work + "/pub.der", "wb").write(der)
subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", work + "/pub.der", "-out", work + "/pub.pem"], check=True)
r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", work + "/pub.pem", "-rawin",
                    "-in", work + "/msg", "-sigfile", work + "/sig"], capture_output=True)
sys.exit(r.returncode)
PYEOF

# A proof against a witnessed checkpoint, checked with the witness's key and a quorum.
check "a producer fetches its proof against a checkpoint the witness cosigned" \
    "$SERAMBI" proof --index "$INDEX" --witnessed 1 -o "$WORK/w.tlog-proof" --profile "$P"
check "verify accepts it with the witness's key" "$SERAMBI" verify "$WORK/w.tlog-proof" --log-key "$WORK/log.vkey" \
    --witness "$W/witness.vkey"
refuse_saying "a quorum of two witnesses is not met by one cosignature" "cosigned by 1 of the 2" \
    "$SERAMBI" verify "$WORK/w.tlog-proof" --log-key "$WORK/log.vkey" --witness "$W/witness.vkey" \
    --witness "$WORK/witness2/witness.vkey" --quorum 2
check "a quorum of one of two is" "$SERAMBI" verify "$WORK/w.tlog-proof" --log-key "$WORK/log.vkey" \
    --witness "$W/witness.vkey" --witness "$WORK/witness2/witness.vkey" --quorum 1
refuse_saying "the log's own key is no witness key" "not a witness" \
    "$SERAMBI" verify "$WORK/w.tlog-proof" --log-key "$WORK/log.vkey" --witness "$WORK/log.vkey"
check "audit verify checks the witnesses on an export" wait_for 20 bash -c "sleep 2;
    '$SERAMBI' audit export -o '$WORK/log.jsonl' --profile '$A' 2>/dev/null &&
    '$SERAMBI' audit verify --export '$WORK/log.jsonl' --checkpoint '$WORK/log.jsonl.checkpoint' --key '$WORK/log.vkey' --witness '$W/witness.vkey'"
metrics=$(api "$ADMIN" "$URL/metrics")
check "metrics show the witness's cosigned size" test "$(metric "$metrics" serambi_witness_cosigned_size inspektorat)" -gt 0
same "metrics show it is not failing" 0 "$(metric "$metrics" serambi_witness_failing inspektorat)"

# The protocol's refusals, straight at the witness.
# post_witness CASE: builds the body for CASE from the cosigned checkpoint, POSTs it, prints the
# status, the content type and the body on one line.
post_witness() {
    python3 - "$1" "$WORK/cosigned" "$WPORT" <<'PYEOF'
import sys, urllib.request, urllib.error
case, note, port = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]
body, sigs = note.split("\n\n", 1)
origin = body.split("\n")[0]
log_line = [l for l in sigs.splitlines() if l.startswith("\u2014 " + origin + " ")][0]
if case == "stale":      # a client without the witness's state asks from 0
    data = "old 0\n\n" + body + "\n\n" + log_line + "\n"
elif case == "unknown":  # a log the witness does not follow
    data = "old 0\n\nother.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 other.example/log AAAAAAAAAAA=\n"
elif case == "forged":   # the log's signature line with its signature bytes changed
    name, sig = log_line.rsplit(" ", 1)
    sig = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    data = "old 0\n\n" + body + "\n\n" + name + " " + sig + "\n"
else:
    data = "hello"
req = urllib.request.Request("http://127.0.0.1:%s/add-checkpoint" % port, data=data.encode(), method="POST")
try:
    r = urllib.request.urlopen(req)
    print(r.status, r.headers.get("Content-Type"), r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("Content-Type"), e.read().decode().strip())
PYEOF
}
stale=$(post_witness stale)
same "old size 0 from a client that lacks its state: 409" 409 "${stale%% *}"
check "the 409 names the size it cosigned, as text/x.tlog.size" bash -c "[[ '$stale' =~ ^409\ text/x\.tlog\.size\ [1-9][0-9]*$ ]]"
same "an unknown origin: 404" 404 "$(post_witness unknown | cut -d' ' -f1)"
same "a checkpoint whose signature does not verify: 403" 403 "$(post_witness forged | cut -d' ' -f1)"
same "a malformed body: 400" 400 "$(post_witness junk | cut -d' ' -f1)"
same "GET on add-checkpoint: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WPORT/add-checkpoint")"

# The gateway keeps serving while the witness is down, and catches up after.
stop_witness
check "a push succeeds while the witness is down" "$SERAMBI" push dinkes-malut/faskes "$WORK/a.csv" --allow-duplicate -q --profile "$P"
check "metrics count the witness unreachable" wait_for 15 bash -c \
    "curl -s --cacert '$ADMIN/ca.crt' --cert '$ADMIN/client.crt' --key '$ADMIN/client.key' '$URL/metrics' | grep -q 'serambi_witness_failing{witness=\"inspektorat.example.go.id/witness\"} 1'"
start_witness
check "once back, the witness cosigns again" wait_for 20 bash -c \
    "curl -s --cacert '$ADMIN/ca.crt' --cert '$ADMIN/client.crt' --key '$ADMIN/client.key' '$URL/metrics' | grep -q 'serambi_witness_failing{witness=\"inspektorat.example.go.id/witness\"} 0'"
check "the outage and the recovery are in the access log" bash -c \
    "'$SERAMBI' audit export -o '$WORK/log2.jsonl' --profile '$A' 2>/dev/null && grep -q witness.unreachable '$WORK/log2.jsonl' && grep -q witness.cosigned '$WORK/log2.jsonl'"

# A rollback: the gateway is restored from an older copy (database and state file together, so
# that the gateway itself cannot tell), then carries on. The witness saw more and refuses.
stop_gateway
mkdir "$WORK/old"
cp -p "$DEP"/serambi.db* "$DEP/gateway.state" "$WORK/old/"
start_gateway
for i in 1 2 3 4 5 6; do
    printf 'kode\n%s\n' "$i" > "$WORK/n$i.csv"
    "$SERAMBI" push dinkes-malut/faskes "$WORK/n$i.csv" -q --profile "$P" >/dev/null
done
check "the witness follows the honest log" wait_for 15 bash -c \
    "curl -s --cacert '$ADMIN/ca.crt' --cert '$ADMIN/client.crt' --key '$ADMIN/client.key' '$URL/metrics' | grep -q 'serambi_witness_failing{witness=\"inspektorat.example.go.id/witness\"} 0'"
sleep 2
stop_gateway
rm -f "$DEP"/serambi.db*
cp -p "$WORK"/old/* "$DEP/"
start_gateway
printf 'kode\nforged\n' > "$WORK/forged.csv"
FORK_INDEX=$("$SERAMBI" push dinkes-malut/faskes "$WORK/forged.csv" -q --profile "$P" | json_field audit_index)
check "the witness refuses the rolled-back log" wait_for 15 bash -c \
    "curl -s --cacert '$ADMIN/ca.crt' --cert '$ADMIN/client.crt' --key '$ADMIN/client.key' '$URL/metrics' | grep -q 'serambi_witness_refusals_total{witness=\"inspektorat.example.go.id/witness\"} [1-9]'"
check "the refusal is an alert in the access log" wait_for 10 bash -c \
    "'$SERAMBI' audit tail -n 50 --profile '$A' | grep -q 'witness.refused'"
refuse "no witnessed proof can be had for an entry of the forked log" \
    "$SERAMBI" proof --index "$FORK_INDEX" --witnessed 1 --profile "$P"
check "the gateway keeps serving" "$SERAMBI" whoami --profile "$P"

# The witness restarted from its state file still refuses the fork.
refusals_before=$(metric "$(api "$ADMIN" "$URL/metrics")" serambi_witness_refusals_total inspektorat)
stop_witness
start_witness
"$SERAMBI" push dinkes-malut/faskes "$WORK/forged.csv" --allow-duplicate -q --profile "$P" >/dev/null
check "after its restart the witness refuses the fork again" wait_for 20 bash -c \
    "test \$(curl -s --cacert '$ADMIN/ca.crt' --cert '$ADMIN/client.crt' --key '$ADMIN/client.key' '$URL/metrics' | awk '/^serambi_witness_refusals_total/ {print \$2}') -gt $refusals_before"
stop_witness
finish
