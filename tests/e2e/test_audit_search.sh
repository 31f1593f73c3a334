# An auditor's questions, answered by `serambi audit search` with the index of every entry: who
# pulled dataset X, which rahasia packages partner P received, what happened in a time window.
# Each index's inclusion proof then verifies. Also: incremental exports verify as a chain, and
# the spreadsheet CSV has a column per field with dates spreadsheets read.
source "$(dirname "$0")/lib.sh"
export TZ=Asia/Jayapura   # WIT, UTC+9: local times and local dates differ from UTC
init_deployment
start_gateway
add_principal bappeda producer
add_principal walidata custodian
add_principal bi-malut partner
add_principal telkom partner
add_principal inspektorat auditor
P=$WORK/bappeda
C=$WORK/walidata
BI=$WORK/bi-malut
TK=$WORK/telkom
A=$WORK/inspektorat
"$SERAMBI" dataset create bappeda/anggaran --class rahasia --title Anggaran --profile "$C" >/dev/null
"$SERAMBI" dataset create bappeda/statistik --class terbatas --title Statistik --profile "$C" >/dev/null
# A dataset whose name begins like another's: a filter on one must not match the other.
"$SERAMBI" dataset create bappeda/statistik-lama --class terbatas --title "Statistik lama" --profile "$C" >/dev/null
for partner in bi-malut telkom; do
    "$SERAMBI" agreement add --partner "$partner" --datasets 'bappeda/*' --max-class rahasia --purpose kajian \
        --valid-from "$(date -u -d yesterday +%Y-%m-%d)" --valid-until "$(date -u -d '+30 days' +%Y-%m-%d)" \
        --profile "$C" >/dev/null
done
printf 'pos,pagu\n1,2\n' >"$WORK/anggaran.csv"
printf 'kab,penduduk\nternate,200000\n' >"$WORK/statistik.csv"
push() { "$SERAMBI" push "$1" "$2" -q --no-proof --allow-duplicate --profile "$P" | json_field package_id; }
R1=$(push bappeda/anggaran "$WORK/anggaran.csv")
R2=$(push bappeda/anggaran "$WORK/anggaran.csv")
S1=$(push bappeda/statistik "$WORK/statistik.csv")
L1=$(push bappeda/statistik-lama "$WORK/statistik.csv")
"$SERAMBI" approve "$R1" --for bi-malut --profile "$C" >/dev/null
"$SERAMBI" approve "$R2" --for telkom --profile "$C" >/dev/null
pull() { "$SERAMBI" pull "$2" -o "$WORK/out-$1-$2" -q --no-proof --profile "$WORK/$1" >/dev/null 2>&1; }

# The first "day": bi-malut pulls the statistics and its rahasia package; telkom the old statistics.
pull bi-malut "$S1"
pull bi-malut "$R1"
pull telkom "$L1"
sleep 1.2
MIDDLE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1.2
# The second: telkom pulls the statistics and its rahasia package, and tries bi-malut's.
pull telkom "$S1"
pull telkom "$R2"
pull telkom "$R1"
"$SERAMBI" audit export -o "$WORK/first.jsonl" --profile "$A" 2>/dev/null

search() { "$SERAMBI" audit search "$@" --json --profile "$A" 2>"$WORK/search.err"; }
# principal, index, and the package id of each JSON Lines answer, sorted by index
summary() { python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    e = json.loads(o["entry"])
    print(e.get("principal", "-"), e["resource"].split("/packages/")[-1].split("/")[0])'; }

out=$(search --dataset bappeda/statistik --action package.pull --decision allow | summary | sort)
same "who pulled dataset bappeda/statistik: bi-malut and telkom, and no pull of bappeda/statistik-lama" \
    "$(printf 'bi-malut %s\ntelkom %s' "$S1" "$S1")" "$out"
contains "the answer says how many matched" "2 entries match" "$(cat "$WORK/search.err")"
out=$(search --principal telkom --class rahasia --action package.pull --decision allow | summary)
same "which rahasia packages telkom received: R2 only" "telkom $R2" "$out"
out=$(search --principal telkom --package "$R1" --decision deny | summary)
same "and that it was refused bi-malut's" "telkom $R1" "$out"
out=$(search --action package.pull --since "$MIDDLE" | summary | cut -d' ' -f1 | sort -u)
same "pulls since the middle of the run are telkom's alone" "telkom" "$out"
out=$(search --action package.pull --until "$MIDDLE" --principal telkom | summary)
same "before it, telkom pulled only the old statistics" "telkom $L1" "$out"
same "a package filter matches that package exactly" 1 \
    "$(search --package "$R1" --action package.pull --decision allow | wc -l)"

# Every index the search names is the entry it shows, and its inclusion proof verifies.
"$SERAMBI" audit key --profile "$A" >"$WORK/log.vkey"
search --dataset bappeda/anggaran --action package.pull >"$WORK/found.jsonl"
check "the search found pulls of the rahasia dataset" test -s "$WORK/found.jsonl"
while read -r index; do
    check "entry $index: its inclusion proof verifies" \
        "$SERAMBI" audit proof inclusion --index "$index" --key "$WORK/log.vkey" --profile "$A"
    same "entry $index: and it is line $((index + 1)) of a full export" \
        "$(python3 -c 'import json,sys; print([json.loads(l)["entry"] for l in open(sys.argv[1]) if json.loads(l)["index"] == int(sys.argv[2])][0])' "$WORK/found.jsonl" "$index")" \
        "$(sed -n "$((index + 1))p" "$WORK/first.jsonl")"
done < <(python3 -c 'import json,sys; [print(json.loads(l)["index"]) for l in open(sys.argv[1])]' "$WORK/found.jsonl")

# For people: a table with local times (WIT) on a terminal.
table=$(LANG=C.UTF-8 script -qc "'$SERAMBI' audit search --principal bi-malut --action package.pull --profile '$A'" /dev/null | tr -d '\r')
contains "a terminal gets a table" "INDEX" "$table"
contains "with local times (UTC+9)" "$(TZ=Asia/Jayapura date +%Y-%m-%d)" "$table"
contains "naming the dataset and the package" "bappeda/anggaran package ${R1:0:12}" "$table"
table=$(LANG=id_ID.UTF-8 script -qc "'$SERAMBI' audit search --principal bi-malut --action package.pull --profile '$A'" /dev/null | tr -d '\r')
contains "in Indonesian for an id_* locale" "INDEKS    WAKTU" "$table"
contains "the package too" "bappeda/anggaran paket ${R1:0:12}" "$table"

# Hostile and clumsy filters: refused with a clear message, or simply matching nothing.
refuse_saying "a time that is not one is refused" "takes a date" "$SERAMBI" audit search --since yesterday --profile "$A"
refuse "a class that does not exist is refused" "$SERAMBI" audit search --class geheim --profile "$A"
same "the API refuses a malformed time" 400 "$(status "$A" "$URL/v1/audit/entries?since=2026-13-45")"
same "and an empty filter" 400 "$(status "$A" "$URL/v1/audit/entries?principal=")"
same "quotes and wildcards match nothing rather than everything" 0 \
    "$(search --principal "' OR 1=1 --" | wc -l)"
same "a producer may not search the log at all" 404 "$(status "$P" "$URL/v1/audit/entries?principal=telkom")"

# The spreadsheet CSV: a column per field, index first, local and UTC times a spreadsheet reads.
"$SERAMBI" audit search --principal bi-malut --action package.pull --csv --profile "$A" >"$WORK/search.csv" 2>/dev/null
check "the CSV has the columns an auditor needs" python3 - "$WORK/search.csv" "$R1" <<'PYEOF'
import csv, sys, datetime
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert rows, "no rows"
for r in rows:
    int(r["index"])
    local = datetime.datetime.strptime(r["time_local"], "%Y-%m-%d %H:%M:%S")
    utc = datetime.datetime.strptime(r["time_utc"], "%Y-%m-%d %H:%M:%S")
    assert local - utc == datetime.timedelta(hours=9), (local, utc)
    assert r["principal"] == "bi-malut" and r["action"] == "package.pull"
    assert r["dataset"].startswith("bappeda/")
assert any(r["package"] == sys.argv[2] and r["classification"] == "rahasia" for r in rows)
PYEOF

# Incremental exports: the entries since the first export, verified as a chain with it.
pull bi-malut "$S1"
SIZE=$(wc -l <"$WORK/first.jsonl")
"$SERAMBI" audit export --from "$SIZE" -o "$WORK/second.jsonl" --profile "$A" 2>/dev/null
check "an incremental export holds only the new entries" test "$(wc -l <"$WORK/second.jsonl")" -lt "$SIZE"
out=$("$SERAMBI" audit verify --export "$WORK/first.jsonl" --export "$WORK/second.jsonl" \
    --checkpoint "$WORK/second.jsonl.checkpoint" --key "$WORK/log.vkey" --previous "$WORK/first.jsonl.checkpoint" 2>&1)
same "the two verify as one log against the new checkpoint, extending the old one" 0 "$?"
refuse_saying "in the wrong order they do not" "do not follow each other" \
    "$SERAMBI" audit verify --export "$WORK/second.jsonl" --export "$WORK/first.jsonl" \
    --checkpoint "$WORK/second.jsonl.checkpoint" --key "$WORK/log.vkey"
refuse "nor the incremental one alone" "$SERAMBI" audit verify --export "$WORK/second.jsonl" \
    --checkpoint "$WORK/second.jsonl.checkpoint" --key "$WORK/log.vkey"
refuse_saying "an export from past the end is refused" "past the log" \
    "$SERAMBI" audit export --from 999999 -o "$WORK/none.jsonl" --profile "$A"
# What a package the log names is, for the auditor (the policy's [audit] package_metadata):
# its metadata, never its content.
meta=$("$SERAMBI" audit package "$R1" --profile "$A")
same "the auditor reads a rahasia package's file name" anggaran.csv "$(echo "$meta" | json_field filename)"
same "its dataset" bappeda/anggaran "$(echo "$meta" | json_field dataset)"
same "its classification" rahasia "$(echo "$meta" | json_field classification)"
same "its size" "$(stat -c %s "$WORK/anggaran.csv")" "$(echo "$meta" | json_field size)"
check "and nothing of its content" test "$(echo "$meta" | grep -c 'pos,pagu')" -eq 0
same "the auditor may still not pull it" 404 "$(status "$A" "$URL/v1/packages/$R1")"
same "a partner does not learn the route exists" 404 "$(status "$BI" "$URL/v1/audit/packages/$R1")"
same "nor the producer" 404 "$(status "$P" "$URL/v1/audit/packages/$R1")"
refuse_saying "an unknown package is a 404 for the auditor too" "no such package" \
    "$SERAMBI" audit package 0123456789abcdef0123456789abcdef --profile "$A"
refuse_saying "a malformed id is refused before any request" "32 hex digits" \
    "$SERAMBI" audit package ../../etc --profile "$A"
"$SERAMBI" audit export -o "$WORK/after-meta.jsonl" --profile "$A" 2>/dev/null
looked=$(grep '"audit.package"' "$WORK/after-meta.jsonl" | grep "$R1" | grep '"principal":"inspektorat"')
contains "each look-up is in the access log, with the package's classification" '"classification":"rahasia"' "$looked"
table=$(LANG=id_ID.UTF-8 script -qc "'$SERAMBI' audit package '$R1' --profile '$A'" /dev/null | tr -d '\r')
contains "on a terminal, lines for people" "BERKAS       anggaran.csv (text/csv)" "$table"

finish
