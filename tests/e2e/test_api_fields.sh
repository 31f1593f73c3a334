# Every JSON field docs/openapi.yaml documents for an answer is one the gateway really gives, and
# every field it gives is documented: a scenario that makes each documented field appear (a
# removed principal, a revoked agreement, a withdrawn approval, a refused request, a package to
# ask for and one released, a resumable upload, proofs), its answers captured operation by
# operation and checked against the document by tests/e2e/api_fields.py.
source "$(dirname "$0")/lib.sh"
SPEC=$(realpath "$(dirname "$0")/../../docs/openapi.yaml")
CHECKER=$(realpath "$(dirname "$0")/api_fields.py")
init_deployment
# A receiver on this host may be registered (none listens: its deliveries wait, listed).
set_config allowed_networks '["127.0.0.0/8"]'
start_gateway
OUT=$WORK/answers
mkdir -p "$OUT"
cap() { # OPERATION PROFILE CURL-ARGS...: one answer of OPERATION, appended to its file
    local op=$1 p=$2; shift 2
    api "$p" -sf "$@" >>"$OUT/$op.json" || fail "$op: the request failed"
    echo >>"$OUT/$op.json"
}
nth() { # OPERATION N FIELD: FIELD of the Nth answer captured for OPERATION
    python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if l.strip()][int(sys.argv[2]) - 1][sys.argv[3]])' \
        "$OUT/$1.json" "$2" "$3"
}
json_string() { python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))'; }
csr() { # CN FILE: a fresh key and a certificate request for it, as a JSON string
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$2.key" -subj "/CN=$1" \
        -out "$WORK/$2.csr" 2>/dev/null
    json_string <"$WORK/$2.csr"
}

add_principal dinkes-malut producer
add_principal walidata custodian
add_principal walidata-dua custodian
add_principal bi-malut partner
add_principal inspektorat auditor
P=$WORK/dinkes-malut C=$WORK/walidata C2=$WORK/walidata-dua BI=$WORK/bi-malut A=$WORK/inspektorat
H=(-H 'Content-Type: application/json')

curl -s --cacert "$ADMIN/ca.crt" "$URL/healthz" >"$OUT/getHealth.json"
cap getWhoami "$P" "$URL/v1/whoami"
cap getWhoami "$BI" "$URL/v1/whoami"
cap createPrincipal "$ADMIN" "${H[@]}" -X POST "$URL/v1/principals" \
    -d "{\"id\":\"opd-lama\",\"name\":\"OPD lama\",\"roles\":[\"producer\"],\"csr\":$(csr opd-lama first)}"
cap setRecipient "$BI" "${H[@]}" -X POST "$URL/v1/principals/bi-malut/recipient" \
    -d "{\"recipient\":\"$("$SERAMBI" age keygen -o "$WORK/new-age.key" 2>&1 | grep -o 'age1[a-z0-9]*')\"}"
cap reissueCertificate "$ADMIN" "${H[@]}" -X POST "$URL/v1/principals/opd-lama/reissue" -d "{\"csr\":$(csr opd-lama second)}"
cap removePrincipal "$ADMIN" "${H[@]}" -X POST "$URL/v1/principals/opd-lama/remove" -d '{"reason":"cessationOfOperation"}'
cap listPrincipals "$ADMIN" "$URL/v1/principals"

cap createDataset "$C" "${H[@]}" -X POST "$URL/v1/datasets" \
    -d '{"id":"dinkes-malut/gizi","owner":"dinkes-malut","classification":"terbatas","title":"Gizi"}'
"$SERAMBI" dataset create dinkes-malut/kasus --class rahasia --title Kasus --profile "$C" >/dev/null
cap getDataset "$P" "$URL/v1/datasets/dinkes-malut/gizi"
cap listDatasets "$P" "$URL/v1/datasets"
printf 'kode,nilai\n1,2\n' >"$WORK/gizi.csv"
cap pushPackage "$P" -X POST -H 'Serambi-Filename: gizi.csv' -H 'Content-Type: text/csv' --data-binary @"$WORK/gizi.csv" \
    "$URL/v1/datasets/dinkes-malut/gizi/packages"
G=$(nth pushPackage 1 package_id)
cap pushPackage "$P" -X POST -H 'Serambi-Filename: kasus.csv' --data-binary @"$WORK/gizi.csv" \
    "$URL/v1/datasets/dinkes-malut/kasus/packages"
K=$(nth pushPackage 2 package_id)
cap pushPackage "$P" -X POST -H 'Serambi-Filename: kasus-2.csv' --data-binary @"$WORK/gizi.csv" \
    "$URL/v1/datasets/dinkes-malut/kasus/packages"
K2=$(nth pushPackage 3 package_id)
# A resumable upload, sent whole in its creation.
cap createUpload "$P" -D "$WORK/whole.head" -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $(stat -c %s "$WORK/gizi.csv")" \
    -H "Upload-Metadata: dataset $(printf dinkes-malut/gizi | base64 -w0),filename $(printf besar.csv | base64 -w0)" \
    -H 'Content-Type: application/offset+octet-stream' --data-binary @"$WORK/gizi.csv" "$URL/v1/uploads"
api "$P" -s -o /dev/null -D "$WORK/upload.head" -X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 100' \
    -H "Upload-Metadata: dataset $(printf dinkes-malut/gizi | base64 -w0),filename $(printf belum.csv | base64 -w0)" \
    "$URL/v1/uploads"
UPLOAD=$(sed -n 's|^[Ll]ocation: .*/v1/uploads/\([^[:space:]]*\).*|\1|p' "$WORK/upload.head")
cap getUpload "$P" "$URL/v1/uploads/$UPLOAD"
WHOLE=$(sed -n 's|^[Ll]ocation: .*/v1/uploads/\([^[:space:]]*\).*|\1|p' "$WORK/whole.head")
cap getUpload "$P" "$URL/v1/uploads/$WHOLE"
cap getManifest "$P" "$URL/v1/packages/$G/manifest"

cap createAgreement "$C" "${H[@]}" -X POST "$URL/v1/agreements" -d "{\"partner\":\"bi-malut\",\"datasets\":[\"dinkes-malut/*\"],
    \"max_classification\":\"rahasia\",\"purpose\":\"kajian\",\"valid_from\":\"$(date -u -d yesterday +%Y-%m-%d)\",
    \"valid_until\":\"$(date -u -d '+30 days' +%Y-%m-%d)\",\"document_name\":\"mou.pdf\",\"document_sha256\":\"$(printf mou | sha256sum | cut -c1-64)\"}"
"$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/gizi' --max-class terbatas --purpose lama \
    --valid-from "$(date -u -d yesterday +%Y-%m-%d)" --valid-until "$(date -u -d '+30 days' +%Y-%m-%d)" --profile "$C" \
    >"$WORK/old-agreement.json"
OLD=$(json_field id <"$WORK/old-agreement.json")
cap revokeAgreement "$C" "${H[@]}" -X POST "$URL/v1/agreements/$OLD/revoke" -d '{"reason":"diganti"}'
cap getAgreement "$C" "$URL/v1/agreements/$OLD"
cap listAgreements "$C" "$URL/v1/agreements"

# A request refused, one approved (and so released), and an approval withdrawn.
cap createRequest "$BI" "${H[@]}" -X POST "$URL/v1/packages/$K2/requests" -d '{"purpose":"kajian"}'
R=$(nth createRequest 1 id)
cap refuseRequest "$C" "${H[@]}" -X POST "$URL/v1/requests/$R/refuse" -d '{"reason":"belum waktunya"}'
cap createRequest "$BI" "${H[@]}" -X POST "$URL/v1/packages/$K/requests" -d '{"purpose":"kajian"}'
cap createApproval "$C" "${H[@]}" -X POST "$URL/v1/packages/$K/approvals" -d '{"partner":"bi-malut","max_downloads":3}'
cap createApproval "$C2" "${H[@]}" -X POST "$URL/v1/packages/$K2/approvals" -d '{"partner":"bi-malut"}'
W=$(nth createApproval 2 id)
cap withdrawApproval "$C2" "${H[@]}" -X POST "$URL/v1/approvals/$W/withdraw" -d '{}'
cap listApprovals "$C" "$URL/v1/approvals"
cap listRequests "$C" "$URL/v1/requests"
cap explainDecision "$C" "$URL/v1/policy/explain?principal=bi-malut&package=$K"

# Listings as the partner sees them: one released, one to ask for, with its open request.
cap createRequest "$BI" "${H[@]}" -X POST "$URL/v1/packages/$K2/requests" -d '{"purpose":"lagi"}'
cap listPackages "$BI" "$URL/v1/datasets/dinkes-malut/kasus/packages"
cap listPackages "$P" "$URL/v1/datasets/dinkes-malut/gizi/packages"
cap listAllPackages "$BI" "$URL/v1/packages"
cap getAuditPackage "$A" "$URL/v1/audit/packages/$K"

# Webhooks: one kept, one removed, and the deliveries a push queues for the kept one.
cap createHook "$BI" "${H[@]}" -X POST "$URL/v1/hooks" \
    -d '{"url":"https://127.0.0.1:9/serambi","events":["package.arrived","release.approved"]}'
cap createHook "$BI" "${H[@]}" -X POST "$URL/v1/hooks" -d '{"url":"https://127.0.0.1:9/lama","events":["release.refused"]}'
HOOK=$(nth createHook 1 id)
cap removeHook "$BI" -X POST "$URL/v1/hooks/$(nth createHook 2 id)/remove"
cap listHooks "$BI" "$URL/v1/hooks"
api "$P" -sf -X POST -H 'Serambi-Filename: gizi-3.csv' --data-binary @"$WORK/gizi.csv" \
    "$URL/v1/datasets/dinkes-malut/gizi/packages" >/dev/null || fail "the push for the webhook failed"
queued() { [ "$(api "$BI" -sf "$URL/v1/hooks/$HOOK/deliveries" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" != 0 ]; }
wait_for 20 queued || fail "the push was not queued for the partner's webhook"
cap listHookDeliveries "$BI" "$URL/v1/hooks/$HOOK/deliveries"

SIZE=$("$SERAMBI" audit checkpoint --profile "$A" | sed -n 2p)
cap getInclusionProof "$A" "$URL/v1/audit/proof/inclusion?index=1&size=$SIZE"
cap getConsistencyProof "$A" "$URL/v1/audit/proof/consistency?old=2&new=$SIZE"

OPERATIONS=(getHealth getWhoami createPrincipal setRecipient reissueCertificate removePrincipal listPrincipals
    createDataset getDataset listDatasets pushPackage createUpload getUpload getManifest createAgreement
    revokeAgreement getAgreement listAgreements createRequest refuseRequest createApproval withdrawApproval
    listApprovals listRequests explainDecision listPackages listAllPackages getAuditPackage getInclusionProof
    getConsistencyProof createHook removeHook listHooks listHookDeliveries)
out=$(python3 "$CHECKER" "$SPEC" "$OUT" "${OPERATIONS[@]}" 2>&1)
status_code=$?
echo "$out"
same "every documented field of ${#OPERATIONS[@]} operations appears, and nothing undocumented" 0 "$status_code"
finish
