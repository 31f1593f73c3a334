# The access log as an auditor meets it: entries for every request, signed checkpoints, proofs,
# and offline verification that catches an edited, deleted, reordered, rolled-back or forked log.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal pemkab-halut producer
add_principal inspektorat auditor
"$SERAMBI" dataset create dinkes-malut/imunisasi --class terbatas --title Imunisasi --profile "$ADMIN" >/dev/null
A=$WORK/inspektorat
P=$WORK/dinkes-malut

head -c 300000 /dev/urandom > "$WORK/data.bin"
receipt=$("$SERAMBI" push dinkes-malut/imunisasi "$WORK/data.bin" -q --profile "$P")
ID=$(echo "$receipt" | json_field package_id)
INDEX=$(echo "$receipt" | json_field audit_index)
check "the receipt carries the entry's leaf index" test -n "$INDEX"
same "another producer may not read the terbatas package (404)" 404 "$(status "$WORK/pemkab-halut" "$URL/v1/packages/$ID")"
curl -s -o /dev/null --cacert "$ADMIN/ca.crt" "$URL/healthz"   # no client certificate: refused at the handshake

same "a producer does not see the access log (404)" 404 "$(status "$P" "$URL/v1/audit/checkpoint")"
same "an admin does not see the access log either (404)" 404 "$(status "$ADMIN" "$URL/v1/audit/entries")"

"$SERAMBI" audit key --profile "$A" > "$WORK/log.vkey"
contains "the verifier key is in note form (name+hash+key)" "+" "$(cat "$WORK/log.vkey")"
"$SERAMBI" audit checkpoint --profile "$A" > "$WORK/cp1"
contains "a checkpoint is a signed note" "— " "$(cat "$WORK/cp1")"
check "audit export writes the log and its checkpoint" "$SERAMBI" audit export -o "$WORK/log1.jsonl" --profile "$A"
check "audit verify accepts the untouched export" "$SERAMBI" audit verify --export "$WORK/log1.jsonl" --checkpoint "$WORK/log1.jsonl.checkpoint" --key "$WORK/log.vkey"
log1=$(cat "$WORK/log1.jsonl")
contains "the push is recorded as allowed, with its digest" "\"action\":\"package.push\"" "$log1"
contains "the pushed payload's digest is in its entry" "$(sha256sum "$WORK/data.bin" | cut -d' ' -f1)" "$log1"
contains "the denied read is recorded with the policy's reason" "the policy does not let the caller read terbatas data" "$log1"
contains "the refused handshake is recorded" "\"action\":\"tls.handshake\"" "$log1"
contains "the producer's look at the log is recorded as denied" "\"decision\":\"deny\"" "$log1"
same "creating the dataset left exactly one entry, written with the change" 1 "$(grep -c '"action":"dataset.create"' "$WORK/log1.jsonl")"
same "each principal added left exactly one entry" 3 "$(grep -c '"action":"principal.create"' "$WORK/log1.jsonl")"
check "every line is canonical JSON" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    assert json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=False) == line, line
' "$WORK/log1.jsonl"
check "the push's inclusion proof verifies against the signed checkpoint" "$SERAMBI" audit proof inclusion --index "$INDEX" --key "$WORK/log.vkey" --profile "$A"
check "audit tail prints entries" bash -c "'$SERAMBI' audit tail -n 3 --profile '$A' | grep -q request_id"
check "a CSV export for spreadsheets" bash -c "'$SERAMBI' audit export --csv -o '$WORK/log.csv' --profile '$A' && head -1 '$WORK/log.csv' | grep -q '^index,time_local,time_utc'"

"$SERAMBI" pull "$ID" -o "$WORK/pulled.bin" -q --profile "$P" >/dev/null 2>&1

# ---- Transfers cut short leave an entry saying so.
head -c $((48 << 20)) /dev/urandom > "$WORK/big.bin"
BIG=$("$SERAMBI" push dinkes-malut/imunisasi "$WORK/big.bin" -q --profile "$P" | json_field package_id)
api "$P" "$URL/v1/packages/$BIG" 2>/dev/null | head -c 100000 > /dev/null
printf 'GET /v1/whoami HTTP/1.1\r\nHost: gateway\r\nX-Cut: ' |
    timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$P/ca.crt" -cert "$P/client.crt" -key "$P/client.key" -quiet -no_ign_eof >/dev/null 2>&1
entries_now() { "$SERAMBI" audit tail -n 200 --profile "$A" 2>/dev/null; }
wait_for 10 bash -c "'$SERAMBI' audit tail -n 200 --profile '$A' | grep -q 'incomplete: '"
tail_now=$(entries_now)
contains "a download the client abandoned gets a follow-up entry with the bytes sent" "/packages/$BIG\",\"sha256\"" \
    "$(echo "$tail_now" | grep '"decision":"error"' | grep 'incomplete: ')"
contains "it says how much of the payload went" "of $((48 << 20)) bytes sent" "$tail_now"
contains "under an action of its own, so pulls are not counted twice" '"action":"package.pull.incomplete"' "$tail_now"
contains "a connection cut inside a request header is recorded" '"action":"request.incomplete"' "$tail_now"
check "the log keeps growing and stays consistent with the saved checkpoint" "$SERAMBI" audit proof consistency --old "$WORK/cp1" --key "$WORK/log.vkey" --profile "$A"
"$SERAMBI" audit export -o "$WORK/log2.jsonl" --profile "$A" 2>/dev/null
check "a later export verifies and extends the earlier checkpoint" "$SERAMBI" audit verify --export "$WORK/log2.jsonl" --checkpoint "$WORK/log2.jsonl.checkpoint" --key "$WORK/log.vkey" --previous "$WORK/cp1"
cp "$WORK/log2.jsonl.checkpoint" "$WORK/cp2"

# ---- A pulled package checked offline against the log: its push is in the signed tree.
PULLED=("$WORK/pulled.bin" --manifest "$WORK/pulled.bin.manifest.json" --signature "$WORK/pulled.bin.manifest.p7s" --ca "$P/ca.crt")
check "audit proof inclusion saves an offline proof file" "$SERAMBI" audit proof inclusion --index "$INDEX" --key "$WORK/log.vkey" -o "$WORK/proof.json" --profile "$A"
out=$("$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --proof "$WORK/proof.json" --audit-index "$INDEX" 2>&1)
contains "verify --proof: the push is the receipt's entry in the signed tree" "its push is entry $INDEX of the log" "$out"
out=$("$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --export "$WORK/log2.jsonl" --checkpoint "$WORK/cp2" 2>&1)
contains "verify --export finds the push without the receipt's index" "its push is entry $INDEX of the log" "$out"
refuse_saying "verify --export refuses another index than the push's" "does not record the push" "$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --export "$WORK/log2.jsonl" --checkpoint "$WORK/cp2" --audit-index $((INDEX + 1))
refuse_saying "verify --proof refuses another index than the proof's" "the receipt names entry" "$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --proof "$WORK/proof.json" --audit-index $((INDEX + 1))
refuse_saying "verify --export needs its checkpoint" "--export needs --checkpoint" "$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --export "$WORK/log2.jsonl"
refuse_saying "verify --proof needs the log key" "--log-key" "$SERAMBI" verify "${PULLED[@]}" --proof "$WORK/proof.json"
python3 - "$WORK/proof.json" "$WORK" <<'PY'
import json, sys
proof = json.load(open(sys.argv[1]))
edited = dict(proof, entry=proof["entry"].replace('"bytes_in":', '"bytes_in":1'))
json.dump(edited, open(sys.argv[2] + "/proof-entry.json", "w"))
hashes = list(proof["hashes"]); hashes[0] = hashes[-1] if len(hashes) > 1 else "A" * 43 + "="
json.dump(dict(proof, hashes=hashes[::-1] if len(hashes) > 1 else hashes), open(sys.argv[2] + "/proof-path.json", "w"))
PY
refuse_saying "a proof whose entry was edited is refused" "is not in the signed tree" "$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --proof "$WORK/proof-entry.json"
refuse_saying "a proof whose audit path was changed is refused" "is not in the signed tree" "$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --proof "$WORK/proof-path.json"
refuse_saying "a proof checked against a checkpoint of another size is refused" "fetch a proof for that checkpoint" "$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --proof "$WORK/proof.json" --checkpoint "$WORK/cp1"
sed 's/"remote":"/"remote":"x/' "$WORK/log2.jsonl" > "$WORK/edited.jsonl"
refuse_saying "an edited export is refused by verify" "does not hash to the checkpoint" "$SERAMBI" verify "${PULLED[@]}" --log-key "$WORK/log.vkey" --export "$WORK/edited.jsonl" --checkpoint "$WORK/cp2"
head -c 1000 /dev/urandom > "$WORK/other.bin"
other=$("$SERAMBI" push dinkes-malut/imunisasi "$WORK/other.bin" -q --profile "$P" | json_field package_id)
"$SERAMBI" pull "$other" -o "$WORK/other-pulled.bin" -q --profile "$P" >/dev/null 2>&1
refuse_saying "another package's proof does not vouch for this one" "does not record the push of package" "$SERAMBI" verify "$WORK/other-pulled.bin" --manifest "$WORK/other-pulled.bin.manifest.json" --signature "$WORK/other-pulled.bin.manifest.p7s" --ca "$P/ca.crt" --log-key "$WORK/log.vkey" --proof "$WORK/proof.json"
refuse_saying "a package pushed after the checkpoint is not in its export" "no entry of the log up to the checkpoint" "$SERAMBI" verify "$WORK/other-pulled.bin" --manifest "$WORK/other-pulled.bin.manifest.json" --signature "$WORK/other-pulled.bin.manifest.p7s" --ca "$P/ca.crt" --log-key "$WORK/log.vkey" --export "$WORK/log2.jsonl" --checkpoint "$WORK/cp2"
{ cat "$WORK/log2.jsonl"; echo '{"action":"package.pull","principal":"made-up"}'; } > "$WORK/padded.jsonl"
refuse "lines added after the checkpoint's entries are refused" "$SERAMBI" audit verify --export "$WORK/padded.jsonl" --checkpoint "$WORK/cp2" --key "$WORK/log.vkey"
same "a non-auditor learns nothing from another method on the audit routes (404, not 405)" 404 "$(status "$P" -X POST "$URL/v1/audit/checkpoint")"
refuse "a checkpoint signed by another key is refused" "$SERAMBI" audit verify --export "$WORK/log2.jsonl" --checkpoint "$WORK/cp2" --key <(echo "other.log+01234567+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")

# ---- A flood of refused handshakes is counted, not recorded one entry each.
stop_gateway
sed -i 's/^refused_handshake_entries_per_.* = .*/refused_handshake_entries_per_minute = 10/' "$DEP/serambi.toml"
start_gateway
refusals_so_far() {
    "$SERAMBI" audit tail -n 100000 --profile "$A" | python3 -c '
import json, sys
single = counted = summaries = 0
for line in sys.stdin:
    e = json.loads(line)
    if e.get("action") == "tls.handshake":
        if "count" in e: counted += e["count"]; summaries += 1
        else: single += 1
print(single, counted, summaries)'
}
read -r single0 _ _ <<<"$(refusals_so_far)"
for _ in $(seq 1 12); do curl -s -o /dev/null --cacert "$ADMIN/ca.crt" "$URL/healthz"; done
METRICS=$(api "$ADMIN" "$URL/metrics")
check "/metrics counts the refused handshakes" test "$(metric_value "$METRICS" serambi_handshakes_refused_total)" -ge 12
read -r single _ _ <<<"$(refusals_so_far)"
same "one address gets a tenth of the per-minute budget as entries of its own" 1 $((single - single0))
# A minute's count is recorded when the minute ends, or at the latest when the gateway stops.
stop_gateway
start_gateway
read -r single counted summaries <<<"$(refusals_so_far)"
same "every refused handshake is accounted for, singly or counted" 12 $((single - single0 + counted))
check "beyond the budget they were counted in summary entries" test "$summaries" -ge 1 -a $((single - single0)) -lt 12

# ---- Tampering, by someone holding the master key, with the gateway stopped. The gateway itself
# notices at start (its state file remembers what it published) and starts only when told to
# accept it; auditors notice whatever the gateway says, from the checkpoints they saved.
stop_gateway
DBKEY=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:"$(tr -d '\n' < "$DEP/master.key")" \
        -kdfopt info:serambi/sqlcipher/v1 HKDF | tr -d ':\n' | tr 'A-F' 'a-f')
sql() { printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = 4096;\n%s\n" "$DBKEY" "$1" | sqlcipher "$DEP/serambi.db" >/dev/null; }
check "the test can open the database with the derived key" sql "SELECT count(*) FROM audit_entries;"
cp "$DEP/serambi.db" "$WORK/pristine.db"
restore() { cp "$WORK/pristine.db" "$DEP/serambi.db"; rm -f "$DEP/serambi.db-wal" "$DEP/serambi.db-shm"; }

# tampered WHAT SQL [at-start]: the log, tampered with, must fail fsck and verification against
# the auditor's key and checkpoint; with "at-start", the gateway must also refuse to start on it.
# (An entry edited in place, its tree left alone, keeps the published root: only a full recount
# of the entries, which fsck and auditors do, finds it.)
tampered() {
    restore
    sql "$2"
    refuse "$1: serambi fsck reports it" "$SERAMBI" fsck --config "$DEP/serambi.toml"
    if [ "${3:-}" = at-start ]; then
        refuse_saying "$1: the gateway refuses to start on it" "behind this gateway's state file" \
            timeout 20 "$SERAMBI" serve --config "$DEP/serambi.toml"
    fi
    start_gateway --accept-rollback
    rm -f "$WORK/t.jsonl" "$WORK/t.jsonl.checkpoint"
    check "$1: the gateway still exports" "$SERAMBI" audit export -o "$WORK/t.jsonl" --profile "$A"
    refuse "$1: audit verify reports it" "$SERAMBI" audit verify --export "$WORK/t.jsonl" --checkpoint "$WORK/t.jsonl.checkpoint" --key "$WORK/log.vkey" --previous "$WORK/cp2"
    stop_gateway
}
tampered "an edited entry" "UPDATE audit_entries SET entry = replace(entry, '\"deny\"', '\"allow\"') WHERE entry LIKE '%\"deny\"%';"
tampered "a deleted entry" "DELETE FROM audit_entries WHERE idx = 1;" at-start
# In a log missing a row, a filtered or indexed view still names each entry by its own index.
restore
sql "DELETE FROM audit_entries WHERE idx = 1;"
start_gateway --accept-rollback
same "a row missing: the indexed view names the rows after it by their own index" "0 2 3" \
    "$(api "$A" "$URL/v1/audit/entries?indexed=true&start=0&end=4" | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["index"]) for l in sys.stdin if l.strip()))')"
stop_gateway
tampered "two entries swapped" "UPDATE audit_entries SET entry = CASE idx WHEN 1 THEN (SELECT entry FROM audit_entries WHERE idx = 2) ELSE (SELECT entry FROM audit_entries WHERE idx = 1) END WHERE idx IN (1, 2);"
# An entry inserted in the middle, the last one pushed out so that the count stays the same.
tampered "an inserted entry" "UPDATE audit_entries SET idx = idx + 1000000 WHERE idx >= 3; UPDATE audit_entries SET idx = idx - 999999 WHERE idx >= 1000000; DELETE FROM audit_entries WHERE idx = (SELECT MAX(idx) FROM audit_entries); INSERT INTO audit_entries(idx, entry) VALUES(3, '{\"forged\":true}');"
# Inserted carelessly, the shifted last row takes the place of the next entry: the gateway can no
# longer write its log and fails closed, serving nothing.
restore
sql "UPDATE audit_entries SET idx = idx + 1000000 WHERE idx >= 3; UPDATE audit_entries SET idx = idx - 999999 WHERE idx >= 1000000; INSERT INTO audit_entries(idx, entry) VALUES(3, '{\"forged\":true}');"
refuse_saying "a log the gateway cannot append to does not start, even when told to accept a rollback (fail closed)" \
    "the access log could not be written" timeout 20 "$SERAMBI" serve --config "$DEP/serambi.toml" --accept-rollback
tampered "a rewritten history (entries and tree rebuilt)" "DELETE FROM audit_nodes; DELETE FROM audit_entries;" at-start

# Rolled back to a copy taken before cp2: the gateway's new checkpoint is older than the saved one.
restore
start_gateway --accept-rollback
"$SERAMBI" audit checkpoint --profile "$A" > "$WORK/cp3"
stop_gateway
cp "$WORK/pristine.db" "$WORK/before.db"
start_gateway
for i in 1 2 3; do api "$P" -o /dev/null "$URL/v1/whoami"; done
"$SERAMBI" audit checkpoint --profile "$A" > "$WORK/cp4"
stop_gateway
cp "$WORK/before.db" "$DEP/serambi.db"; rm -f "$DEP/serambi.db-wal" "$DEP/serambi.db-shm"
refuse_saying "a database restored from an earlier copy stops the start, naming both sizes" "already signed a checkpoint of" \
    timeout 20 "$SERAMBI" serve --config "$DEP/serambi.toml"
start_gateway --accept-rollback
"$SERAMBI" audit export -o "$WORK/rb.jsonl" --profile "$A" >/dev/null 2>&1
contains "the accepted rollback is the first entry after the restored log" '"action":"gateway.rollback"' "$(tail -n 2 "$WORK/rb.jsonl")"
refuse "a database rolled back to an earlier copy fails against the later saved checkpoint" "$SERAMBI" audit verify --export "$WORK/rb.jsonl" --checkpoint "$WORK/rb.jsonl.checkpoint" --key "$WORK/log.vkey" --previous "$WORK/cp4"
for i in 1 2 3 4 5; do api "$WORK/pemkab-halut" -o /dev/null "$URL/v1/whoami"; done
"$SERAMBI" audit export -o "$WORK/fork.jsonl" --profile "$A" >/dev/null 2>&1
refuse "a fork (rolled back, then grown past the saved size) fails too" "$SERAMBI" audit verify --export "$WORK/fork.jsonl" --checkpoint "$WORK/fork.jsonl.checkpoint" --key "$WORK/log.vkey" --previous "$WORK/cp4"
refuse "and the consistency proof against the saved checkpoint fails" "$SERAMBI" audit proof consistency --old "$WORK/cp4" --key "$WORK/log.vkey" --profile "$A"
check "the untampered history still verifies" "$SERAMBI" audit verify --export "$WORK/fork.jsonl" --checkpoint "$WORK/fork.jsonl.checkpoint" --key "$WORK/log.vkey" --previous "$WORK/cp1"
finish
