# Re-keying a unit: its laptop is stolen, its certificate is revoked (keyCompromise), and the
# admin reissues a certificate for the unit's new key under the same id: datasets, packages and
# history intact, the stolen certificate refused for good.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal admin2 admin
add_principal pemkab-halut producer
add_principal inspektorat auditor
UNIT=$WORK/unit
"$SERAMBI" enroll --id dinkes-malut --out "$UNIT" >/dev/null 2>&1
"$SERAMBI" principal add dinkes-malut --role producer --name "Dinas Kesehatan" --csr "$UNIT/client.csr" \
    --out "$WORK/handover" --profile "$ADMIN" >/dev/null 2>&1 || { echo "cannot add the unit"; exit 1; }
cp "$WORK/handover/client.crt" "$WORK/handover/ca.crt" "$WORK/handover/profile.toml" "$UNIT/"
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title "Status gizi" --profile "$ADMIN" >/dev/null
printf 'kode,nilai\n1,2\n' > "$WORK/gizi.csv"
ID=$("$SERAMBI" push dinkes-malut/gizi "$WORK/gizi.csv" --no-proof -q --profile "$UNIT" | json_field package_id)
OLD_SERIAL=$(openssl x509 -in "$UNIT/client.crt" -noout -serial | cut -d= -f2)

# The laptop is stolen: the certificate is revoked, the principal stays.
check "the admin revokes the stolen certificate by its serial" "$SERAMBI" cert revoke "$OLD_SERIAL" --reason keyCompromise --profile "$ADMIN"
refuse "the stolen certificate is refused" "$SERAMBI" whoami --profile "$UNIT"

# The unit makes a new key and request; the admin reissues.
NEW=$WORK/unit-new
"$SERAMBI" enroll --id dinkes-malut --out "$NEW" >/dev/null 2>&1
"$SERAMBI" enroll --id dinkes-lain --out "$WORK/other" >/dev/null 2>&1
refuse_saying "a request for another id is refused" "not dinkes-malut" \
    "$SERAMBI" principal reissue dinkes-malut --csr "$WORK/other/client.csr" --out "$WORK/h0" --profile "$ADMIN"
same "the gateway refuses one too, if sent by hand" 400 "$(status "$ADMIN" -X POST -H 'Content-Type: application/json' \
    --data "$(python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$WORK/other/client.csr")" \
    "$URL/v1/principals/dinkes-malut/reissue")"
same "a producer may not reissue (404)" 404 "$(status "$WORK/pemkab-halut" -X POST -H 'Content-Type: application/json' --data '{}' "$URL/v1/principals/dinkes-malut/reissue")"
"$SERAMBI" enroll --id admin --out "$WORK/admin-new" >/dev/null 2>&1
refuse_saying "an admin may not reissue its own certificate" "another admin" \
    "$SERAMBI" principal reissue admin --csr "$WORK/admin-new/client.csr" --out "$WORK/h1" --profile "$ADMIN"
out=$("$SERAMBI" principal reissue dinkes-malut --csr "$NEW/client.csr" --out "$WORK/h2" --profile "$ADMIN" 2>&1)
contains "the admin reissues for the new key" "replaced_serial" "$out"
check "and hands back no key" test ! -e "$WORK/h2/client.key"
cp "$WORK/h2/client.crt" "$WORK/h2/ca.crt" "$WORK/h2/profile.toml" "$NEW/"
contains "the unit is itself again, under the same id" '"id":"dinkes-malut"' "$("$SERAMBI" whoami --profile "$NEW" 2>&1)"
check "it still reads its earlier package" "$SERAMBI" pull "$ID" -o "$WORK/back.csv" -q --no-proof --profile "$NEW"
check "and pushes to its dataset" "$SERAMBI" push dinkes-malut/gizi "$WORK/gizi.csv" --allow-duplicate --no-proof -q --profile "$NEW"
refuse "the stolen certificate stays refused" "$SERAMBI" whoami --profile "$UNIT"
crl=$("$SERAMBI" pki crl --profile "$ADMIN" -o "$WORK/crl.der" >/dev/null 2>&1 && openssl crl -inform DER -in "$WORK/crl.der" -noout -text)
contains "the CRL keeps the first reason, keyCompromise" "Key Compromise" "$(echo "$crl" | grep -A6 "$OLD_SERIAL")"

# A second reissue revokes the certificate in use as superseded.
NEWER=$WORK/unit-newer
"$SERAMBI" enroll --id dinkes-malut --out "$NEWER" >/dev/null 2>&1
check "a reissue over a live certificate" "$SERAMBI" principal reissue dinkes-malut --csr "$NEWER/client.csr" --out "$WORK/h3" --profile "$ADMIN"
refuse "the certificate it replaced is refused at once" "$SERAMBI" whoami --profile "$NEW"

# A removed principal is never given a certificate again.
"$SERAMBI" principal remove dinkes-malut --profile "$ADMIN" >/dev/null 2>&1
refuse_saying "a removed principal cannot be reissued" "removed" \
    "$SERAMBI" principal reissue dinkes-malut --csr "$NEWER/client.csr" --out "$WORK/h4" --profile "$ADMIN"
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$WORK/inspektorat" 2>/dev/null
same "both reissues are in the access log, allowed" 2 \
    "$(grep '"action":"certificate.reissue"' "$WORK/log.jsonl" | grep -c '"decision":"allow"')"
contains "the refused ones too" '"decision":"deny"' "$(grep '"action":"certificate.reissue"' "$WORK/log.jsonl")"
finish
