# principal remove: a unit that leaves for good. Its certificate is refused from the next
# handshake and on the CRL, its id stays in the registry (and so in the access log's meaning) and
# is never given again; what it published stays readable to those allowed.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal opd-lama producer
add_principal walidata custodian
add_principal admin-dua admin
add_principal inspektorat auditor
P=$WORK/opd-lama
"$SERAMBI" dataset create opd-lama/arsip --class biasa --title Arsip --profile "$ADMIN" >/dev/null
head -c 20000 /dev/urandom > "$WORK/data.bin"
ID=$("$SERAMBI" push opd-lama/arsip "$WORK/data.bin" -q --profile "$P" | json_field package_id)
SERIAL=$(openssl x509 -in "$P/client.crt" -noout -serial | cut -d= -f2)

same "a producer may not remove principals (404)" 404 "$(status "$WORK/walidata" -d '{}' "$URL/v1/principals/opd-lama/remove")"
refuse_saying "nobody removes themselves" "another admin must" "$SERAMBI" principal remove admin --profile "$ADMIN"
refuse_saying "an unknown reason is refused" "unknown revocation reason" "$SERAMBI" principal remove opd-lama --reason goneFishing --profile "$ADMIN"
refuse_saying "an unknown principal is 404" "no such principal" "$SERAMBI" principal remove opd-tiada --profile "$ADMIN"
check "(before: the unit works)" "$SERAMBI" whoami --profile "$P"

OUT=$("$SERAMBI" principal remove opd-lama --profile "$ADMIN" 2>&1)
contains "an admin removes the unit" '"id":"opd-lama"' "$OUT"
contains "its certificate is revoked as cessationOfOperation by default" '"reason":"cessationOfOperation"' "$OUT"
refuse "it is refused from the next handshake" curl -sS --fail -o /dev/null --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "$URL/healthz"
LISTED=$(api "$ADMIN" "$URL/v1/principals" | python3 -c 'import json,sys; print([p["removed_at"] for p in json.load(sys.stdin) if p["id"]=="opd-lama"][0])')
check "principal list keeps it, with when it was removed" test -n "$LISTED"
api "$ADMIN" -o "$WORK/crl.der" "$URL/v1/pki/crl"
contains "the CRL lists its serial" "$SERIAL" "$(openssl crl -inform DER -in "$WORK/crl.der" -noout -text)"
refuse_saying "removing it twice is refused" "was removed at" "$SERAMBI" principal remove opd-lama --profile "$ADMIN"
"$SERAMBI" enroll --id opd-lama --out "$WORK/again" >/dev/null 2>&1
refuse_saying "its id is never given again" "never given again" \
    "$SERAMBI" principal add opd-lama --role producer --name "OPD Lama" --csr "$WORK/again/client.csr" --out "$WORK/again-out" --profile "$ADMIN"
check "what it published stays readable to those allowed" "$SERAMBI" pull "$ID" -o "$WORK/pulled.bin" -q --profile "$WORK/walidata"
check "(intact)" cmp "$WORK/data.bin" "$WORK/pulled.bin"
same "nothing more is sealed for it: its recipient is no longer served (404)" 404 "$(status "$WORK/walidata" "$URL/v1/principals/opd-lama/recipient")"
refuse_saying "it cannot be given a new dataset" "was removed" \
    "$SERAMBI" dataset create opd-lama/baru --class biasa --title Baru --profile "$ADMIN"
same "/metrics counts it among the revoked" 1 "$(metric "$(api "$ADMIN" "$URL/metrics")" serambi_principals 'revoked="true"')"

# Removal is not undone by a restart; a second admin can remove the first.
stop_gateway
start_gateway
refuse "after a restart it is still refused" curl -sS --fail -o /dev/null --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "$URL/healthz"
check "another admin removes an admin, with a reason" "$SERAMBI" principal remove admin --reason affiliationChanged --profile "$WORK/admin-dua"
refuse "whose profile then stops working" "$SERAMBI" whoami --profile "$ADMIN"
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$WORK/inspektorat" 2>/dev/null
same "both removals are in the access log" 2 "$(grep '"action":"principal.remove"' "$WORK/log.jsonl" | grep -c '"decision":"allow"')"
contains "naming the revoked certificate" "certificate $SERIAL revoked (cessationOfOperation)" "$(grep '"action":"principal.remove"' "$WORK/log.jsonl")"
finish
