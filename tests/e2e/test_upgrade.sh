# Upgrading: a deployment made by the previous release (tests/fixtures/deployment-0.1.0.tar.gz,
# schema without a version, 1 KiB database pages) is started by this binary, which upgrades its
# database in one transaction; every package and access-log entry is still there. A database
# whose schema is newer than this binary knows is refused, unchanged.
source "$(dirname "$0")/lib.sh"
FIXTURE=$(cd "$(dirname "$0")/../fixtures" && pwd)/deployment-0.1.0.tar.gz
OLD=$WORK/old
mkdir -p "$OLD"
tar -C "$OLD" -xzf "$FIXTURE"
DEP=$OLD/dep
ADMIN=$DEP/profiles/admin
P=$OLD/dinkes-malut
A=$OLD/inspektorat
sed -i "s|^listen = .*|listen = \"127.0.0.1:$PORT\"|" "$DEP/serambi.toml"
for profile in "$ADMIN" "$P" "$A"; do
    sed -i "s|^gateway = .*|gateway = \"$URL\"|" "$profile/profile.toml"
done
if ! openssl x509 -in "$DEP/pki/gateway.crt" -noout -checkend 2592000 >/dev/null; then
    "$SERAMBI" pki renew-gateway --config "$DEP/serambi.toml" >/dev/null 2>&1 || { echo "cannot renew the fixture's certificates"; exit 1; }
fi

DBKEY=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:"$(tr -d '\n' < "$DEP/master.key")" \
        -kdfopt info:serambi/sqlcipher/v1 HKDF | tr -d ':\n' | tr 'A-F' 'a-f')
# sql PAGE-SIZE SQL: runs SQL on the deployment's database with the sqlcipher shell.
sql() { printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = %s;\n%s\n" "$DBKEY" "$1" "$2" | sqlcipher "$DEP/serambi.db"; }
same "the fixture's database has no schema version" 0 "$(sql 1024 "PRAGMA user_version;" | tail -1)"

SCHEMA=$("$SERAMBI" --version | sed -n 's/^database schema version \([0-9]*\)$/\1/p')
check "serambi --version names the schema version it writes" test -n "$SCHEMA"
start_gateway
same "this binary upgrades it at start, to that version" "$SCHEMA" "$(sql 1024 "PRAGMA user_version;" | tail -1)"
refuse "it keeps its 1 KiB pages (read as 4 KiB ones, it does not open)" sql 4096 "SELECT count(*) FROM principals;"
check "(read as 1 KiB ones, it does)" sql 1024 "SELECT count(*) FROM principals;"
check "every column the new release uses is there" bash -c "printf 'PRAGMA key = \"x'\"'\"'%s'\"'\"'\";\nPRAGMA cipher_page_size = 1024;\nPRAGMA table_info(approvals);\n' '$DBKEY' | sqlcipher '$DEP/serambi.db' | grep -q completed_pending"
for n in 1 2; do
    id=$(json_field package_id <"$OLD/r$n.json")
    file=$(json_field filename <"$OLD/r$n.json")
    check "package $n of the old release pulls after the upgrade" \
        "$SERAMBI" pull "$id" -o "$WORK/back-$n" -q --no-proof --profile "$P"
    check "byte for byte ($file)" cmp "$WORK/back-$n" "$OLD/$file"
done
check "the auditor exports the upgraded access log" "$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$A"
check "it verifies with the log key of before the upgrade, extending the checkpoint saved then" \
    "$SERAMBI" audit verify --export "$WORK/log.jsonl" --checkpoint "$WORK/log.jsonl.checkpoint" --key "$OLD/log.vkey" --previous "$OLD/checkpoint.txt"
printf 'kode,nilai\n3,4\n' >"$WORK/baru.csv"
receipt=$("$SERAMBI" push dinkes-malut/gizi "$WORK/baru.csv" --no-proof -q --profile "$P")
check "a new package goes in after the upgrade" test -n "$(echo "$receipt" | json_field package_id)"
check "and comes back" "$SERAMBI" pull "$(echo "$receipt" | json_field package_id)" -o "$WORK/baru-back.csv" -q --no-proof --profile "$P"
stop_gateway
check "serambi fsck finds the upgraded deployment consistent" "$SERAMBI" fsck --config "$DEP/serambi.toml"
start_gateway
check "a second start finds nothing to upgrade" kill -0 "$GW_PID"
stop_gateway

# A database of schema version 1 (the release before access-log key rotation): the table of
# key hand-overs is added, and a rotation then works.
sql 1024 "DROP TABLE audit_key_handovers; PRAGMA user_version = 1;" >/dev/null
same "(a database of schema version 1)" 1 "$(sql 1024 "PRAGMA user_version;" | tail -1)"
start_gateway
same "is upgraded at start" "$SCHEMA" "$(sql 1024 "PRAGMA user_version;" | tail -1)"
stop_gateway
check "and the access-log key can be rotated" "$SERAMBI" keys rotate-log --config "$DEP/serambi.toml"
start_gateway
check "the log then verifies across the hand-over from the key of the old release" bash -c \
    "'$SERAMBI' audit export -o '$WORK/log2.jsonl' --profile '$A' >/dev/null && '$SERAMBI' audit verify --export '$WORK/log2.jsonl' --checkpoint '$WORK/log2.jsonl.checkpoint' --key '$OLD/log.vkey' --previous '$OLD/checkpoint.txt'"
stop_gateway

# A database of schema version 3 (webhooks before email): its hooks gain confirmed_at and
# confirm_tries, and the HTTPS hooks it had are confirmed, so they go on hearing.
sql 1024 "DROP TABLE hook_deliveries; DROP TABLE hooks;
CREATE TABLE hooks(
  id TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES principals(id), everyone INTEGER NOT NULL,
  url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, created_at INTEGER NOT NULL,
  from_index INTEGER NOT NULL, removed_at INTEGER NOT NULL DEFAULT 0, cert_serial TEXT NOT NULL);
CREATE TABLE hook_deliveries(
  id TEXT PRIMARY KEY, hook TEXT NOT NULL REFERENCES hooks(id), event TEXT NOT NULL,
  recipient TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', delivered_at INTEGER NOT NULL DEFAULT 0);
INSERT INTO hooks VALUES('hook-00000000000000a3', 'admin', 0, 'https://notifikasi.example.go.id/serambi',
  'certificate.expiring', 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 1796600000, 0, 0, '01');
PRAGMA user_version = 3;" >/dev/null
same "(a database of schema version 3)" 3 "$(sql 1024 "PRAGMA user_version;" | tail -1)"
start_gateway
same "is upgraded at start" "$SCHEMA" "$(sql 1024 "PRAGMA user_version;" | tail -1)"
same "its HTTPS hook is confirmed as made, so it goes on hearing" "1796600000|0" \
    "$(sql 1024 "SELECT confirmed_at, confirm_tries FROM hooks;" | tail -1)"
contains "and listed so" '"confirmed":true' "$("$SERAMBI" hook list --json --profile "$ADMIN")"
stop_gateway

# A database a newer release upgraded: this binary refuses it and changes nothing.
sql 1024 "PRAGMA user_version = 99;" >/dev/null
before=$(sha256sum <"$DEP/serambi.db")
"$SERAMBI" serve --config "$DEP/serambi.toml" >"$WORK/newer.log" 2>&1
same "a schema newer than this binary knows stops the start" 1 "$?"
contains "saying so, with both versions" "has schema version 99, newer than this Serambi knows ($SCHEMA)" "$(cat "$WORK/newer.log")"
same "and the database is untouched" "$before" "$(sha256sum <"$DEP/serambi.db")"
out=$("$SERAMBI" fsck --config "$DEP/serambi.toml" 2>&1)
contains "fsck says the same" "newer than this Serambi knows" "$out"
finish
