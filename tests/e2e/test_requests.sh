# Release requests: a partner sees a rahasia package its agreement covers before the release (name,
# date, size; no digest), asks for it with a purpose, and custodians answer with approvals or a
# refusal. sangat-rahasia packages are listed only to the recipients the producer named.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal walidata custodian
add_principal walidata-dua custodian
add_principal bi-malut partner
add_principal telkom partner
P=$WORK/dinkes-malut
C=$WORK/walidata
C2=$WORK/walidata-dua
BI=$WORK/bi-malut
"$SERAMBI" dataset create dinkes-malut/gizi --class rahasia --title Gizi --profile "$C" >/dev/null
"$SERAMBI" dataset create dinkes-malut/rujukan --class sangat-rahasia --title Rujukan --profile "$C" >/dev/null
for who in bi-malut telkom; do
    "$SERAMBI" agreement add --partner "$who" --datasets 'dinkes-malut/*' --max-class rahasia --purpose "kajian" \
        --valid-from "$(date -u -d yesterday +%F)" --valid-until "$(date -u -d '+30 days' +%F)" --profile "$C" >/dev/null
done
echo "kecamatan,stunting" > "$WORK/gizi.csv"
R=$("$SERAMBI" push dinkes-malut/gizi "$WORK/gizi.csv" -q --profile "$P" | json_field package_id)
S=$("$SERAMBI" push dinkes-malut/rujukan "$WORK/gizi.csv" --to bi-malut -q --profile "$P" | json_field package_id)
listing() { api "$1" "$URL/v1/datasets/$2/packages"; }
# field_of ID FIELD < listing: the field ("-" if missing), or "absent" (a 404 is absent too)
field_of() {
    python3 -c '
import json, sys
listing = json.load(sys.stdin)
p = [x for x in listing if x["package_id"] == sys.argv[1]] if isinstance(listing, list) else []
print(p[0].get(sys.argv[2], "-") if p else "absent")' "$@"
}

# ---- Listed before release, without its digest
same "the partner sees the rahasia package listed before release" request "$(listing "$BI" dinkes-malut/gizi | field_of "$R" access)"
same "with its name" gizi.csv "$(listing "$BI" dinkes-malut/gizi | field_of "$R" filename)"
same "but not its digest" - "$(listing "$BI" dinkes-malut/gizi | field_of "$R" sha256)"
same "and it still cannot pull it" 404 "$(status "$BI" "$URL/v1/packages/$R")"
same "a partner named as recipient sees the sangat-rahasia package listed" request \
    "$(listing "$BI" dinkes-malut/rujukan | field_of "$S" access)"
same "another partner does not see it at all (the dataset is 404 to it)" absent "$(listing "$WORK/telkom" dinkes-malut/rujukan | field_of "$S" access)"

# ---- Asking
refuse_saying "a request needs a purpose" "purpose" "$SERAMBI" request "$R" --purpose "   " --profile "$BI"
same "a purpose over 500 characters is refused" 400 "$(status "$BI" -X POST \
    -d "{\"purpose\":\"$(head -c 501 /dev/zero | tr '\0' x)\"}" "$URL/v1/packages/$R/requests")"
same "an unknown member is refused" 400 "$(status "$BI" -X POST -d '{"purpose":"x","partner":"telkom"}' "$URL/v1/packages/$R/requests")"
req=$("$SERAMBI" request "$R" --purpose 'kajian inflasi pangan <b>Q4</b>' --profile "$BI")
REQ=$(echo "$req" | json_field id)
contains "the request is printed with its id" "req-" "$REQ"
same "and is open" open "$(echo "$req" | json_field state)"
same "the purpose is kept as written" 'kajian inflasi pangan <b>Q4</b>' "$(echo "$req" | json_field purpose)"
refuse_saying "a second open request for the same package is refused" "already asked" \
    "$SERAMBI" request "$R" --purpose again --profile "$BI"
same "the listing shows the open request" "$REQ" "$(listing "$BI" dinkes-malut/gizi | python3 -c \
    'import json,sys; print([p for p in json.load(sys.stdin) if p["package_id"]==sys.argv[1]][0]["request"]["id"])' "$R")"
same "a package the caller cannot see cannot be asked for (404)" 404 \
    "$(status "$WORK/telkom" -X POST -d '{"purpose":"x"}' "$URL/v1/packages/$S/requests")"
same "the producer, who reads it already, is told so (409)" 409 "$(status "$P" -X POST -d '{"purpose":"x"}' "$URL/v1/packages/$R/requests")"
same "an unknown package is 404" 404 "$(status "$BI" -X POST -d '{"purpose":"x"}' "$URL/v1/packages/00000000000000000000000000000000/requests")"

# ---- The inbox
inbox=$(api "$C" "$URL/v1/requests?state=open")
same "the custodian's inbox holds the request" "$REQ" "$(echo "$inbox" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
same "naming the agreement that covers it" "mou-" "$(echo "$inbox" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["agreement"][:4])')"
same "and the package's name" gizi.csv "$(echo "$inbox" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["package"]["filename"])')"
same "the other partner sees none of it" 0 "$(api "$WORK/telkom" "$URL/v1/requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
same "a producer has no inbox (404)" 404 "$(status "$P" "$URL/v1/requests")"
same "a bad state filter is 400" 400 "$(status "$C" "$URL/v1/requests?state=maybe")"

# ---- Approved: the request is answered in the approval's transaction
check "a custodian approves the release" "$SERAMBI" approve "$R" --for bi-malut --profile "$C"
same "which answers the request" released "$(api "$BI" "$URL/v1/requests" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])')"
same "by that custodian" walidata "$(api "$BI" "$URL/v1/requests" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["decided_by"])')"
same "the partner now pulls it" 200 "$(status "$BI" "$URL/v1/packages/$R")"
same "and the listing says released" released "$(listing "$BI" dinkes-malut/gizi | field_of "$R" access)"
refuse_saying "asking for a released package says so" "already released" "$SERAMBI" request "$R" --purpose x --profile "$BI"

# ---- Two-person: the first approval leaves the request open, naming who gave it
SREQ=$("$SERAMBI" request "$S" --purpose "rujukan pasien" --profile "$BI" | json_field id)
check "the first custodian approves" "$SERAMBI" approve "$S" --for bi-malut --profile "$C"
open=$(api "$C2" "$URL/v1/requests?state=open")
same "the request stays open after one of two approvals" "$SREQ" "$(echo "$open" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
same "and the second custodian sees who gave the first" walidata \
    "$(echo "$open" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["approvals"][0]["custodian"])')"
check "the second custodian approves" "$SERAMBI" approve "$S" --for bi-malut --profile "$C2"
same "which releases it" released "$(api "$BI" "$URL/v1/requests" | python3 -c \
    'import json,sys; print([r for r in json.load(sys.stdin) if r["id"]==sys.argv[1]][0]["state"])' "$SREQ")"

# ---- Refused, with a reason
R2=$("$SERAMBI" push dinkes-malut/gizi "$WORK/gizi.csv" -q --allow-duplicate --profile "$P" | json_field package_id)
TREQ=$("$SERAMBI" request "$R2" --purpose "iklan" --profile "$WORK/telkom" | json_field id)
refuse_saying "a refusal needs a reason" "reason" "$SERAMBI" requests refuse "$TREQ" --reason " " --profile "$C"
same "a partner cannot refuse (404)" 404 "$(status "$WORK/telkom" -X POST -d '{"reason":"x"}' "$URL/v1/requests/$TREQ/refuse")"
refused=$("$SERAMBI" requests refuse "$TREQ" --reason "tujuan di luar MOU" --profile "$C")
same "the custodian refuses it" refused "$(echo "$refused" | json_field state)"
same "the partner reads the reason" "tujuan di luar MOU" \
    "$(api "$WORK/telkom" "$URL/v1/requests" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["reason"])')"
refuse_saying "a request is answered once" "already refused" "$SERAMBI" requests refuse "$TREQ" --reason again --profile "$C2"
same "an unknown request is 404" 404 "$(status "$C" -X POST -d '{"reason":"x"}' "$URL/v1/requests/req-0000000000000000/refuse")"
check "after a refusal the partner may ask again" "$SERAMBI" request "$R2" --purpose "kajian harga" --profile "$WORK/telkom"

# ---- A lapsed agreement hides the package from the partner's own request list too
TMOU=$(api "$C" "$URL/v1/agreements" | python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin) if a["partner"]=="telkom"][0])')
"$SERAMBI" agreement revoke "$TMOU" --reason "MOU berakhir" --profile "$C" >/dev/null
same "the partner's requests no longer name the package's file" "" \
    "$(api "$WORK/telkom" "$URL/v1/requests" | python3 -c 'import json,sys; print("".join(r.get("package", {}).get("filename", "") for r in json.load(sys.stdin)))')"
same "nor does its listing show it" absent "$(listing "$WORK/telkom" dinkes-malut/gizi | field_of "$R2" access)"

# ---- Every step is in the access log
add_principal inspektorat auditor
count_of() { api "$WORK/inspektorat" "$URL/v1/audit/entries?action=$1&decision=$2" | grep -c . || true; }
same "each request is logged" 4 "$(count_of request.create allow)"
same "with the refusals of bad ones" 8 "$(count_of request.create deny)"
same "the refusal is logged" 1 "$(count_of request.refuse allow)"
finish
