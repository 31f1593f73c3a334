# SIGHUP: the gateway's own TLS certificate is replaced without a restart and without dropping
# the download under way; a certificate that does not load changes nothing.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
P=$WORK/dinkes-malut
add_principal inspektorat auditor
AUDITOR=$WORK/inspektorat
"$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title Faskes --profile "$ADMIN" >/dev/null
head -c $((24 << 20)) /dev/urandom > "$WORK/big.bin"
ID=$("$SERAMBI" push dinkes-malut/faskes "$WORK/big.bin" -q --profile "$P" | json_field package_id)
served_serial() {
    openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$ADMIN/ca.crt" -cert "$P/client.crt" -key "$P/client.key" </dev/null 2>/dev/null |
        openssl x509 -noout -serial | cut -d= -f2
}
OLD=$(served_serial)
check "the gateway serves its certificate" test -n "$OLD"

# A slow download, running across the reload.
api "$P" --limit-rate 4M -o "$WORK/during.bin" "$URL/v1/packages/$ID" &
DOWNLOAD=$!
sleep 1

PKI=$DEP/pki
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/new-gateway.key" 2>/dev/null
openssl req -new -key "$WORK/new-gateway.key" -subj "/O=Serambi/CN=serambi-gateway" -out "$WORK/new-gateway.csr"
SAN=$(openssl x509 -in "$PKI/gateway.crt" -noout -ext subjectAltName | tail -n +2 | sed 's/IP Address:/IP:/g; s/ //g')
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' "$SAN" > "$WORK/gateway.ext"
openssl x509 -req -in "$WORK/new-gateway.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -days 30 -extfile "$WORK/gateway.ext" -out "$WORK/new-gateway.crt" 2>/dev/null
NEW=$(openssl x509 -in "$WORK/new-gateway.crt" -noout -serial | cut -d= -f2)
install -m 600 "$WORK/new-gateway.key" "$PKI/gateway.key"
cp "$WORK/new-gateway.crt" "$PKI/gateway.crt"
kill -HUP "$GW_PID"
check "the gateway says it reloaded" wait_for 5 grep -q "reload: TLS and signing certificates replaced" "$WORK/gateway.log"
same "new connections get the new certificate" "$NEW" "$(served_serial)"
check "and still work end to end" "$SERAMBI" whoami --profile "$P"
wait "$DOWNLOAD"
same "the download under way finished" 0 "$?"
check "whole and intact" cmp "$WORK/during.bin" "$WORK/big.bin"

# A broken certificate file: the reload is refused and the gateway goes on as it was.
echo "not a certificate" > "$PKI/gateway.crt"
kill -HUP "$GW_PID"
check "a certificate that does not load is reported" wait_for 5 grep -q "reload: TLS certificate not replaced" "$WORK/gateway.log"
same "and the one in force stays" "$NEW" "$(served_serial)"
check "the gateway serves on" "$SERAMBI" whoami --profile "$P"
cp "$WORK/new-gateway.crt" "$PKI/gateway.crt"

# The manifest-signing certificate is replaced the same way: pushes from then on are signed with
# the new one, packages pushed before keep the signature they were given.
signer_serial() { # PACKAGE-ID
    api "$P" -o "$WORK/m.json" "$URL/v1/packages/$1/manifest"
    api "$P" -o "$WORK/m.p7s" "$URL/v1/packages/$1/manifest.p7s"
    openssl cms -verify -binary -inform DER -in "$WORK/m.p7s" -content "$WORK/m.json" -CAfile "$ADMIN/ca.crt" \
        -purpose any -signer "$WORK/signer.pem" -out /dev/null 2>/dev/null && openssl x509 -in "$WORK/signer.pem" -noout -serial | cut -d= -f2
}
OLD_SIGNER=$(signer_serial "$ID")
same "(the first package is signed by the certificate init made)" "$(openssl x509 -in "$PKI/signing.crt" -noout -serial | cut -d= -f2)" "$OLD_SIGNER"
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/new-signing.key" 2>/dev/null
openssl req -new -key "$WORK/new-signing.key" -subj "/O=Serambi/CN=serambi-manifest-signing" -out "$WORK/new-signing.csr"
printf 'keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n' > "$WORK/signing.ext"
openssl x509 -req -in "$WORK/new-signing.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -days 30 -extfile "$WORK/signing.ext" -out "$WORK/new-signing.crt" 2>/dev/null
NEW_SIGNER=$(openssl x509 -in "$WORK/new-signing.crt" -noout -serial | cut -d= -f2)
install -m 600 "$WORK/new-signing.key" "$PKI/signing.key"
cp "$WORK/new-signing.crt" "$PKI/signing.crt"
kill -HUP "$GW_PID"
reloaded_twice() { [ "$(grep -c 'reload: TLS and signing certificates replaced' "$WORK/gateway.log")" -eq 2 ]; }
check "the gateway reloads the new signing certificate" wait_for 5 reloaded_twice
head -c 4096 /dev/urandom > "$WORK/small.bin"
ID2=$("$SERAMBI" push dinkes-malut/faskes "$WORK/small.bin" -q --profile "$P" | json_field package_id)
same "a package pushed after the reload is signed with the new certificate" "$NEW_SIGNER" "$(signer_serial "$ID2")"
same "one pushed before keeps its signature" "$OLD_SIGNER" "$(signer_serial "$ID")"
"$SERAMBI" pull "$ID2" -o "$WORK/small.out" -q --profile "$P" >/dev/null
check "serambi verify accepts the new signature offline" "$SERAMBI" verify "$WORK/small.out" \
    --manifest "$WORK/small.out.manifest.json" --signature "$WORK/small.out.manifest.p7s" --ca "$ADMIN/ca.crt"
METRICS=$(api "$ADMIN" "$URL/metrics")
contains "/metrics counts the reloads" 'serambi_reloads_total{result="ok"} 2' "$METRICS"
contains "and the refused one" 'serambi_reloads_total{result="refused"} 1' "$METRICS"
signing_end=$(date -u -d "$(openssl x509 -in "$WORK/new-signing.crt" -noout -enddate | cut -d= -f2)" +%s)
same "and shows the new signing certificate's end date" "$signing_end" \
    "$(metric "$METRICS" serambi_certificate_not_after_seconds 'kind="gateway",name="signing"' "serial=\"$NEW_SIGNER\"")"
same "which ends within 30 days, so it warns" 1 "$(metric "$METRICS" serambi_certificate_expiry_warning 'name="signing"' 'state="expiring"')"
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$AUDITOR" 2>/dev/null
same "each reload is in the access log with the serials it put in use" 1 \
    "$(grep '"action":"gateway.reload"' "$WORK/log.jsonl" | grep -c "\"signing_certificate_serial\":\"$NEW_SIGNER\"")"
contains "and so is the refused one, with why" "SIGHUP: " "$(grep '"action":"gateway.reload"' "$WORK/log.jsonl" | grep '"decision":"error"')"

# serambi pki renew-gateway: new certificates from the CA, keeping the names clients dial; they
# take effect at the next SIGHUP.
BEFORE=$(served_serial)
OLD_SIGNING=$(openssl x509 -in "$PKI/signing.crt" -noout -serial | cut -d= -f2)
check "pki renew-gateway re-issues both certificates" \
    "$SERAMBI" pki renew-gateway --config "$DEP/serambi.toml" --public-name serambi.malutprov.go.id
RENEWED=$(openssl x509 -in "$PKI/gateway.crt" -noout -serial | cut -d= -f2)
SANS=$(openssl x509 -in "$PKI/gateway.crt" -noout -ext subjectAltName)
contains "the new TLS certificate keeps the names it had" "IP Address:127.0.0.1" "$SANS"
contains "and adds the new one" "DNS:serambi.malutprov.go.id" "$SANS"
same "its key is private" 600 "$(stat -c %a "$PKI/gateway.key")"
check "it verifies against the CA" openssl verify -CAfile "$ADMIN/ca.crt" "$PKI/gateway.crt"
check "the signing certificate was renewed too" test "$OLD_SIGNING" != "$(openssl x509 -in "$PKI/signing.crt" -noout -serial | cut -d= -f2)"
same "nothing changes before the SIGHUP" "$BEFORE" "$(served_serial)"
kill -HUP "$GW_PID"
reloaded_thrice() { [ "$(grep -c 'reload: TLS and signing certificates replaced' "$WORK/gateway.log")" -eq 3 ]; }
check "after it the gateway serves the renewed certificate" wait_for 5 reloaded_thrice
same "(the new serial)" "$RENEWED" "$(served_serial)"
SIGNING_NOW=$(openssl x509 -in "$PKI/signing.crt" -noout -serial | cut -d= -f2)
check "--only tls leaves the signing certificate alone" "$SERAMBI" pki renew-gateway --config "$DEP/serambi.toml" --only tls
same "(same signing serial)" "$SIGNING_NOW" "$(openssl x509 -in "$PKI/signing.crt" -noout -serial | cut -d= -f2)"
refuse_saying "an unknown --only is refused" "--only takes tls or signing" "$SERAMBI" pki renew-gateway --config "$DEP/serambi.toml" --only ca
refuse_saying "a missing configuration is named" "nowhere.toml" "$SERAMBI" pki renew-gateway --config "$WORK/nowhere.toml"
finish
