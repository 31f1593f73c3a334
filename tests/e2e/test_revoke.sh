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
# ---- Renewal from a profile: a new certificate, the old one revoked as superseded.
H=$WORK/pemkab-halut
cp "$H/client.crt" "$WORK/old-halut.crt"
contains "a principal renews its own certificate" "renewed pemkab-halut" "$("$SERAMBI" renew --profile "$H")"
check "the renewed profile works" "$SERAMBI" whoami --profile "$H"
refuse "the old certificate is refused at the handshake" \
    curl -sS --fail --cacert "$H/ca.crt" --cert "$WORK/old-halut.crt" --key "$H/client.key" "$URL/healthz"
cp "$H/client.key" "$WORK/old-halut.key"
check "renewal with a new key" "$SERAMBI" renew --new-key --profile "$H"
check "openssl verify accepts the renewed certificate for TLS client use" openssl verify -CAfile "$ADMIN/ca.crt" -purpose sslclient "$H/client.crt"
check "works too" "$SERAMBI" whoami --profile "$H"
same "and the new key is private" 600 "$(stat -c %a "$H/client.key")"
refuse "the key it replaced no longer matches anything" cmp -s "$WORK/old-halut.key" "$H/client.key"
same "nobody renews another's certificate (404)" 404 "$(status "$WORK/inspektorat" -d '{"csr":"x"}' "$URL/v1/principals/pemkab-halut/renew")"

# ---- Certificates the handshake refuses, made with the CA's own key where a CA signature is needed.
PKI=$DEP/pki
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/rogue.key" 2>/dev/null
openssl req -new -key "$WORK/rogue.key" -subj "/O=Serambi/CN=inspektorat" -out "$WORK/rogue.csr"
printf 'subjectAltName=URI:serambi:principal:inspektorat\nextendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' > "$WORK/client.ext"
printf 'subjectAltName=URI:serambi:principal:inspektorat\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' > "$WORK/server.ext"
hs() { curl -sS --fail -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$1" --key "$WORK/rogue.key" "$URL/healthz"; }
openssl req -x509 -key "$WORK/rogue.key" -subj "/O=Serambi/CN=inspektorat" -days 30 -out "$WORK/self.crt" 2>/dev/null
refuse "a self-signed certificate is refused at the handshake" hs "$WORK/self.crt"
openssl x509 -req -in "$WORK/rogue.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -days 30 -extfile "$WORK/server.ext" -out "$WORK/server-usage.crt" 2>/dev/null
refuse "a certificate for servers only (wrong key usage) is refused" hs "$WORK/server-usage.crt"
openssl x509 -req -in "$WORK/rogue.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -days 0 -extfile "$WORK/client.ext" -out "$WORK/expired.crt" 2>/dev/null
sleep 1.1
refuse "an expired certificate is refused" hs "$WORK/expired.crt"
# Not valid until 2030: openssl ca is the stock tool that sets a start date.
mkdir -p "$WORK/ca-db" && : > "$WORK/ca-db/index.txt" && echo 01 > "$WORK/ca-db/serial"
printf '[ca]\ndefault_ca = c\n[c]\ndatabase = %s/ca-db/index.txt\nnew_certs_dir = %s/ca-db\nserial = %s/ca-db/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\norganizationName = optional\n' \
    "$WORK" "$WORK" "$WORK" > "$WORK/ca.cnf"
openssl ca -batch -config "$WORK/ca.cnf" -cert "$PKI/ca.crt" -keyfile "$PKI/ca.key" -in "$WORK/rogue.csr" -notext \
    -startdate 20300101000000Z -enddate 20310101000000Z -extfile "$WORK/client.ext" -out "$WORK/future.crt" 2>/dev/null
contains "(the certificate starts in 2030)" "2030" "$(openssl x509 -in "$WORK/future.crt" -noout -startdate)"
refuse "a certificate that is not yet valid is refused" hs "$WORK/future.crt"
contains "and the refusal says why" "certificate is not yet valid" "$(grep 'handshake refused' "$WORK/gateway.log" | tail -1)"
openssl x509 -req -in "$WORK/rogue.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -days 30 -extfile "$WORK/client.ext" -out "$WORK/valid.crt" 2>/dev/null
check "the same key with a proper client certificate from the CA passes the handshake" hs "$WORK/valid.crt"
same "but it is not the principal's registered certificate, so the request is 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ADMIN/ca.crt" --cert "$WORK/valid.crt" --key "$WORK/rogue.key" "$URL/v1/whoami")"

stop_gateway
start_gateway
refuse "the revocation survives a restart" curl -sS --fail --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "$URL/healthz"
# ---- Expiry: shown in the principal list, and warned about in the log within 30 days.
same "principal list shows when each certificate expires" "$(openssl x509 -in "$WORK/inspektorat/client.crt" -noout -enddate | cut -d= -f2 | xargs -I{} date -u -d {} +%Y-%m-%dT%H:%M:%SZ)" \
    "$(api "$ADMIN" "$URL/v1/principals" | python3 -c 'import json,sys; print([p["certificate_not_after"] for p in json.load(sys.stdin) if p["id"]=="inspektorat"][0])')"
stop_gateway
set_config principal_days 10
start_gateway
add_principal bps-malut partner
stop_gateway
start_gateway
check "a certificate expiring within 30 days is named in the log at start" grep -q "warning: the certificate of bps-malut expires at" "$WORK/gateway.log"
if grep -q "warning: the certificate of inspektorat" "$WORK/gateway.log"; then fail "one valid for a year is not"; else pass "one valid for a year is not"; fi
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$WORK/inspektorat" 2>/dev/null
contains "the revocation is in the access log" '"action":"certificate.revoke"' "$(cat "$WORK/log.jsonl")"
contains "and so is the refused handshake, naming the certificate" 'certificate revoked' "$(grep '"action":"tls.handshake"' "$WORK/log.jsonl")"
contains "the renewal is in the access log" '"action":"certificate.renew"' "$(cat "$WORK/log.jsonl")"
finish
