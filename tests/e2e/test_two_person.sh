# The two-person rule counts people other than the producer. A unit that publishes and is also a
# custodian (a walidata inside the producing OPD) cannot approve its own packages: a rahasia
# release rests on another custodian's approval, a sangat-rahasia one on two more.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal bappeda producer,custodian
add_principal walidata custodian
add_principal walidata-dua custodian
add_principal bi-malut partner
add_principal inspektorat auditor
P=$WORK/bappeda
C=$WORK/walidata
C2=$WORK/walidata-dua
BI=$WORK/bi-malut
"$SERAMBI" dataset create bappeda/anggaran --class rahasia --title Anggaran --profile "$C" >/dev/null
"$SERAMBI" dataset create bappeda/rujukan --class sangat-rahasia --title Rujukan --profile "$C" >/dev/null
"$SERAMBI" agreement add --partner bi-malut --datasets 'bappeda/*' --max-class rahasia --purpose "kajian" \
    --valid-from "$(date -u -d yesterday +%Y-%m-%d)" --valid-until "$(date -u -d '+30 days' +%Y-%m-%d)" --profile "$C" >/dev/null
echo "pos,pagu" > "$WORK/data.csv"
RAHASIA=$("$SERAMBI" push bappeda/anggaran "$WORK/data.csv" -q --profile "$P" | json_field package_id)
SECRET=$("$SERAMBI" push bappeda/rujukan "$WORK/data.csv" --to bi-malut -q --profile "$P" | json_field package_id)
pull() { status "$1" "$URL/v1/packages/$2"; }
approvals_of() { api "$C" "$URL/v1/approvals?package=$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# ---- rahasia: the producer's own approval is refused; another custodian's releases it
refuse_saying "the producer, though a custodian, cannot approve its own rahasia package" "producer" \
    "$SERAMBI" approve "$RAHASIA" --for bi-malut --profile "$P"
same "the refusal is a 409" 409 "$(status "$P" -X POST -d '{"partner":"bi-malut"}' "$URL/v1/packages/$RAHASIA/approvals")"
contains "whose detail names the rule" "producer (bappeda) cannot approve its release" "$(cat "$WORK/last_body")"
same "as application/problem+json" "application/problem+json" \
    "$(api "$P" -o /dev/null -w '%{content_type}' -X POST -d '{"partner":"bi-malut"}' "$URL/v1/packages/$RAHASIA/approvals")"
same "nothing was recorded" 0 "$(approvals_of "$RAHASIA")"
same "so the partner still cannot read it (404)" 404 "$(pull "$BI" "$RAHASIA")"
check "another custodian approves it" "$SERAMBI" approve "$RAHASIA" --for bi-malut --profile "$C"
same "which releases it" 200 "$(pull "$BI" "$RAHASIA")"

# ---- sangat-rahasia: two approvals, from two custodians who are not the producer
refuse_saying "the producer cannot approve its own sangat-rahasia package" "producer" \
    "$SERAMBI" approve "$SECRET" --for bi-malut --profile "$P"
check "a first custodian approves" "$SERAMBI" approve "$SECRET" --for bi-malut --profile "$C"
same "one approval is not enough" 404 "$(pull "$BI" "$SECRET")"
reason=$(api "$C" "$URL/v1/policy/explain?principal=bi-malut&package=$SECRET" | json_field reason)
contains "the policy says a second custodian is missing" "needs 2 approvals from different custodians" "$reason"
check "a third person, a second custodian, approves" "$SERAMBI" approve "$SECRET" --for bi-malut --profile "$C2"
same "two custodians other than the producer release it" 200 "$(pull "$BI" "$SECRET")"

# ---- The refusals are in the access log, like every other
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$WORK/inspektorat" 2>/dev/null
refused=$(python3 - "$WORK/log.jsonl" "$RAHASIA" "$SECRET" <<'EOF'
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1])]
for package in sys.argv[2:]:
    print(sum(1 for e in entries if e.get("action") == "approval.create" and e.get("decision") == "deny"
              and e.get("status") == 409 and e.get("principal") == "bappeda" and package in e.get("resource", "")
              and "producer" in e.get("reason", "")))
EOF
)
same "each refused approval is a deny entry naming the producer rule" "3 1" "$(echo $refused)"
finish
