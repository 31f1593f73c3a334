# Revocation: refused at the next handshake without a restart, published in a CRL that stock
# openssl honours, and recorded in the access log.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal pemkab-halut producer
add_principal inspektorat auditor
P=$WORK/dinkes-malut
check "the principal works before" "$SERAMBI" whoami --profile "$P"
SERIAL=$(openssl x509 -in "$P/client.crt" -noout -serial | cut -d= -f2)
refuse_saying "an unknown reason is refused" "unknown revocation reason" "$SERAMBI" principal revoke dinkes-malut --reason stolen --profile "$ADMIN"
same "a producer may not revoke (404)" 404 "$(status "$WORK/pemkab-halut" -d '{"reason":"keyCompromise"}' "$URL/v1/principals/dinkes-malut/revoke")"
contains "the admin revokes it" "\"serial\":\"$SERIAL\"" "$("$SERAMBI" principal revoke dinkes-malut --reason keyCompromise --profile "$ADMIN")"
refuse "the revoked certificate is refused at the next handshake, without a restart" \
    curl -sS --fail --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "$URL/healthz"
refuse "so the CLI cannot act as it either" "$SERAMBI" whoami --profile "$P"
check "other principals are unaffected" "$SERAMBI" whoami --profile "$WORK/pemkab-halut"
refuse_saying "revoking twice is refused" "already revoked" "$SERAMBI" cert revoke "$SERIAL" --reason keyCompromise --profile "$ADMIN"
refuse_saying "the admin cannot revoke its own certificate" "another admin must" "$SERAMBI" principal revoke admin --profile "$ADMIN"
check "the CRL is published" "$SERAMBI" pki crl -o "$WORK/crl.der" --profile "$WORK/pemkab-halut"
check "it is a CRL signed by the gateway CA" bash -c "openssl crl -inform DER -in '$WORK/crl.der' -out '$WORK/crl.pem' && openssl crl -in '$WORK/crl.pem' -noout -CAfile '$ADMIN/ca.crt' 2>&1 | grep -q 'verify OK'"
contains "it lists the serial with its reason" "Key Compromise" "$(openssl crl -in "$WORK/crl.pem" -noout -text)"
refuse_saying "openssl verify -crl_check refuses the revoked certificate" "revoked" \
    openssl verify -crl_check -CAfile "$ADMIN/ca.crt" -CRLfile "$WORK/crl.pem" "$P/client.crt"
check "and accepts one that is not revoked" openssl verify -crl_check -CAfile "$ADMIN/ca.crt" -CRLfile "$WORK/crl.pem" "$WORK/pemkab-halut/client.crt"
stop_gateway
start_gateway
refuse "the revocation survives a restart" curl -sS --fail --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "$URL/healthz"
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$WORK/inspektorat" 2>/dev/null
contains "the revocation is in the access log" '"action":"certificate.revoke"' "$(cat "$WORK/log.jsonl")"
contains "and so is the refused handshake" 'revoked' "$(grep '"action":"tls.handshake"' "$WORK/log.jsonl")"
finish
