# An auditor's questions over several days: the gateway runs on three days (its clock moved by
# libfaketime, the stock tool, so no test-only code is in the gateway), two partners pull on
# different days, and `serambi audit search` then answers by date: who pulled dataset X in a
# given week, which rahasia packages partner P received and when, each with its index, and each
# index's inclusion proof verifies against the log's key.
source "$(dirname "$0")/lib.sh"
export TZ=Asia/Jayapura # WIT: the auditor's dates are local, the log's UTC
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -r "$FAKETIME_LIB" ] || { echo "libfaketime is missing: make deps installs it"; exit 1; }

# gateway_on_day OFFSET-DAYS: (re)starts the gateway with its clock OFFSET days ahead. Only the
# gateway's clock moves; the CLI and curl keep the real one. Monotonic clocks are left alone so
# that timeouts behave. The sanitizer build wants its runtime first, ahead of the preload.
gateway_on_day() {
    stop_gateway
    LD_PRELOAD=$FAKETIME_LIB FAKETIME="+${1}d" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1 \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" start_gateway
}
day() { date -u -d "+$1 days" +%Y-%m-%d; }                # the UTC date OFFSET days ahead
local_day() { TZ=Asia/Jayapura date -d "+$1 days" +%Y-%m-%d; } # and in WIT

init_deployment
start_gateway
add_principal bappeda producer
add_principal walidata custodian
add_principal bi-malut partner
add_principal telkom partner
add_principal inspektorat auditor
P=$WORK/bappeda
C=$WORK/walidata
A=$WORK/inspektorat
"$SERAMBI" dataset create bappeda/anggaran --class rahasia --title Anggaran --profile "$C" >/dev/null
"$SERAMBI" dataset create bappeda/statistik --class terbatas --title Statistik --profile "$C" >/dev/null
for partner in bi-malut telkom; do
    "$SERAMBI" agreement add --partner "$partner" --datasets 'bappeda/*' --max-class rahasia --purpose kajian \
        --valid-from "$(day -1)" --valid-until "$(day 60)" --profile "$C" >/dev/null
done
printf 'pos,pagu\n1,2\n' >"$WORK/anggaran.csv"
printf 'kab,penduduk\nternate,200000\n' >"$WORK/statistik.csv"
push() { "$SERAMBI" push "$1" "$2" -q --no-proof --allow-duplicate --profile "$P" | json_field package_id; }
pull() { "$SERAMBI" pull "$2" -o "$WORK/out-$1-$2-$RANDOM" -q --no-proof --profile "$WORK/$1" >/dev/null 2>&1; }

# Day 2: the statistics and the first rahasia package arrive; bi-malut pulls the statistics, and
# its rahasia package once the walidata has approved it.
gateway_on_day 2
S1=$(push bappeda/statistik "$WORK/statistik.csv")
R1=$(push bappeda/anggaran "$WORK/anggaran.csv")
"$SERAMBI" approve "$R1" --for bi-malut --profile "$C" >/dev/null
check "day 2: bi-malut pulls the statistics" pull bi-malut "$S1"
check "day 2: and its rahasia package" pull bi-malut "$R1"

# Day 5: telkom pulls the statistics, and tries bi-malut's rahasia package (refused).
gateway_on_day 5
check "day 5: telkom pulls the statistics" pull telkom "$S1"
refuse "day 5: telkom may not pull the package approved for bi-malut" pull telkom "$R1"

# Day 12: a second rahasia package, approved for telkom and pulled; bi-malut pulls the
# statistics again.
gateway_on_day 12
R2=$(push bappeda/anggaran "$WORK/anggaran.csv")
"$SERAMBI" approve "$R2" --for telkom --profile "$C" >/dev/null
check "day 12: telkom pulls its rahasia package" pull telkom "$R2"
check "day 12: bi-malut pulls the statistics again" pull bi-malut "$S1"

search() { "$SERAMBI" audit search "$@" --json --profile "$A" 2>"$WORK/search.err"; }
# "principal package day" per JSON Lines answer, the day being the entry's UTC date
summary() { python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    e = json.loads(o["entry"])
    print(e.get("principal", "-"), e["resource"].split("/packages/")[-1].split("/")[0], e["time"][:10])'; }

# Each entry carries the day the gateway lived it.
same "bi-malut's pulls are dated day 2, day 2 and day 12" \
    "$(printf 'bi-malut %s %s\nbi-malut %s %s\nbi-malut %s %s' "$S1" "$(day 2)" "$R1" "$(day 2)" "$S1" "$(day 12)")" \
    "$(search --principal bi-malut --action package.pull --decision allow | summary)"

# "Who pulled dataset bappeda/statistik, and when?"
same "who pulled bappeda/statistik: bi-malut (days 2 and 12) and telkom (day 5)" \
    "$(printf 'bi-malut %s %s\nbi-malut %s %s\ntelkom %s %s' "$S1" "$(day 2)" "$S1" "$(day 12)" "$S1" "$(day 5)" | sort)" \
    "$(search --dataset bappeda/statistik --action package.pull --decision allow | summary | sort)"
# "... in the week of days 1 to 7?" The dates are the auditor's own: the --since date is taken
# as midnight UTC, so the window is given with a margin of a day on each side of the pulls.
same "in the week from day 1 to day 7: bi-malut on day 2, telkom on day 5" \
    "$(printf 'bi-malut %s %s\ntelkom %s %s' "$S1" "$(day 2)" "$S1" "$(day 5)")" \
    "$(search --dataset bappeda/statistik --action package.pull --decision allow --since "$(day 1)" --until "$(day 7)" |
        summary)"
same "from day 8 on: only bi-malut's second pull" "bi-malut $S1 $(day 12)" \
    "$(search --dataset bappeda/statistik --action package.pull --since "$(day 8)" | summary)"
same "before day 1: nobody (the gateway's first day had no pull)" 0 \
    "$(search --action package.pull --until "$(day 1)" | wc -l)"

# "Which rahasia packages did each partner receive?"
same "the rahasia packages bi-malut received: R1, on day 2" "bi-malut $R1 $(day 2)" \
    "$(search --principal bi-malut --class rahasia --action package.pull --decision allow | summary)"
same "the rahasia packages telkom received: R2, on day 12" "telkom $R2 $(day 12)" \
    "$(search --principal telkom --class rahasia --action package.pull --decision allow | summary)"
same "and the one it was refused, on day 5" "telkom $R1 $(day 5)" \
    "$(search --principal telkom --package "$R1" --decision deny | summary)"

# The log's order is the clock's: indexes grow with the days.
search --action package.pull --decision allow >"$WORK/pulls.jsonl"
check "indexes grow with the entries' times" python3 - "$WORK/pulls.jsonl" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 5, len(rows)
pairs = [(r["index"], json.loads(r["entry"])["time"]) for r in rows]
assert pairs == sorted(pairs), pairs
assert sorted(t for _, t in pairs) == [t for _, t in sorted(pairs)], pairs
PYEOF

# Every index named verifies: its inclusion proof against the log's key, and its line in a full
# export is the entry the search showed.
"$SERAMBI" audit key --profile "$A" >"$WORK/log.vkey"
"$SERAMBI" audit export -o "$WORK/all.jsonl" --profile "$A" 2>/dev/null
count=0
while read -r index; do
    check "entry $index: its inclusion proof verifies" \
        "$SERAMBI" audit proof inclusion --index "$index" --key "$WORK/log.vkey" --profile "$A"
    same "entry $index: it is line $((index + 1)) of the full export" \
        "$(python3 -c 'import json,sys; print([json.loads(l)["entry"] for l in open(sys.argv[1]) if json.loads(l)["index"] == int(sys.argv[2])][0])' "$WORK/pulls.jsonl" "$index")" \
        "$(sed -n "$((index + 1))p" "$WORK/all.jsonl")"
    count=$((count + 1))
done < <(python3 -c 'import json,sys; [print(json.loads(l)["index"]) for l in open(sys.argv[1])]' "$WORK/pulls.jsonl")
same "five pulls were proved" 5 "$count"
check "the export verifies whole, days and all" \
    "$SERAMBI" audit verify --export "$WORK/all.jsonl" --checkpoint "$WORK/all.jsonl.checkpoint" --key "$WORK/log.vkey"

# The auditor's table shows local (WIT) dates: day 12's pull late in the UTC day may be the next
# local date, so the local date of each UTC one is what is looked for.
table=$(LANG=C.UTF-8 script -qc "'$SERAMBI' audit search --principal telkom --action package.pull --decision allow --profile '$A'" /dev/null | tr -d '\r')
contains "the table dates telkom's day-5 pull in local time" "$(local_day 5)" "$table"
contains "and its day-12 pull" "$(local_day 12)" "$table"

stop_gateway
finish
