# SIGHUP: the gateway's own TLS certificate is replaced without a restart and without dropping
# the download under way; a certificate that does not load changes nothing.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
P=$WORK/dinkes-malut
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
finish
