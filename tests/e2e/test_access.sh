# Who may do what: strangers are refused at the handshake, principals see only what the rule allows.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal pemkab-halut producer
add_principal walidata custodian
add_principal bi-malut partner
"$SERAMBI" dataset create dinkes-malut/imunisasi --class terbatas --title "Imunisasi" --profile "$ADMIN" >/dev/null
"$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title "Fasilitas kesehatan" --profile "$ADMIN" >/dev/null
echo "nama,alamat" > "$WORK/faskes.csv"
echo "nik,vaksin" > "$WORK/imunisasi.csv"
OPEN=$("$SERAMBI" push dinkes-malut/faskes "$WORK/faskes.csv" --profile "$WORK/dinkes-malut" | json_field package_id)
CLOSED=$("$SERAMBI" push dinkes-malut/imunisasi "$WORK/imunisasi.csv" --profile "$WORK/dinkes-malut" | json_field package_id)

# Strangers never reach HTTP.
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ADMIN/ca.crt" "$URL/healthz"); rc=$?
same "a request without a client certificate gets no HTTP answer" 000 "$code"
check "curl reports the refused handshake" test "$rc" -ne 0
"$SERAMBI" init "$WORK/other" --listen 127.0.0.1:1 >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ADMIN/ca.crt" --cert "$WORK/other/profiles/admin/client.crt" --key "$WORK/other/profiles/admin/client.key" "$URL/healthz")
same "a certificate from another CA is refused at the handshake" 000 "$code"
refuse "the CLI with another CA's profile fails" "$SERAMBI" whoami --profile "$WORK/other/profiles/admin"
contains "the gateway logs refused handshakes" "handshake refused" "$(cat "$WORK/gateway.log")"
# The gateway's own server certificate is not a client certificate.
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ADMIN/ca.crt" --cert "$DEP/pki/gateway.crt" --key "$DEP/pki/gateway.key" "$URL/healthz")
same "a server certificate from our CA cannot be used as a client" 000 "$code"

# A certificate from our CA for a principal the gateway never registered.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=ghost" -keyout "$WORK/ghost.key" -out "$WORK/ghost.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nsubjectAltName=URI:serambi:principal:ghost\n' > "$WORK/ghost.ext"
openssl x509 -req -in "$WORK/ghost.csr" -CA "$DEP/pki/ca.crt" -CAkey "$DEP/pki/ca.key" -CAcreateserial -days 1 -extfile "$WORK/ghost.ext" -out "$WORK/ghost.crt" 2>/dev/null
code=$(curl -s -o "$WORK/ghost.json" -w '%{http_code}' --cacert "$ADMIN/ca.crt" --cert "$WORK/ghost.crt" --key "$WORK/ghost.key" "$URL/v1/datasets")
same "an unregistered principal is unauthenticated" 401 "$code"
contains "the refusal is problem+json with a request id" '"request_id"' "$(cat "$WORK/ghost.json")"

# biasa is open to every principal; terbatas to the owner, custodians and partners with an
# agreement (tests/e2e/test_grants.sh); the admin runs the gateway and reads no data above biasa.
for who in dinkes-malut pemkab-halut walidata bi-malut; do
    same "$who reads the biasa package" 200 "$(status "$WORK/$who" "$URL/v1/packages/$OPEN")"
done
for who in dinkes-malut walidata; do
    same "$who reads the terbatas package" 200 "$(status "$WORK/$who" "$URL/v1/packages/$CLOSED")"
done
same "the admin gets 404 for the terbatas package" 404 "$(status "$ADMIN" "$URL/v1/packages/$CLOSED")"
for who in pemkab-halut bi-malut; do
    same "$who gets 404 for the terbatas package" 404 "$(status "$WORK/$who" "$URL/v1/packages/$CLOSED")"
    same "$who gets 404 for its manifest" 404 "$(status "$WORK/$who" "$URL/v1/packages/$CLOSED/manifest")"
    same "$who gets 404 for the terbatas dataset" 404 "$(status "$WORK/$who" "$URL/v1/datasets/dinkes-malut/imunisasi")"
    same "$who cannot tell a hidden package from a missing one" "$(status "$WORK/$who" "$URL/v1/packages/00000000000000000000000000000000" && sed 's/"request_id":"[^"]*"//' "$WORK/last_body")" "$(status "$WORK/$who" "$URL/v1/packages/$CLOSED" && sed 's/"request_id":"[^"]*"//' "$WORK/last_body")"
    listing=$(api "$WORK/$who" "$URL/v1/datasets")
    contains "$who lists the biasa dataset" "dinkes-malut/faskes" "$listing"
    if [[ "$listing" == *imunisasi* ]]; then fail "$who must not list the terbatas dataset"; else pass "$who does not list the terbatas dataset"; fi
done
refuse "the CLI pull reports the refusal" "$SERAMBI" pull "$CLOSED" -o "$WORK/nope.csv" --profile "$WORK/bi-malut"
check "and writes nothing" test ! -e "$WORK/nope.csv"

# Only the owner pushes.
refuse "another producer cannot push to a biasa dataset it can read" "$SERAMBI" push dinkes-malut/faskes "$WORK/faskes.csv" --profile "$WORK/pemkab-halut"
same "a custodian cannot push to someone else's dataset" 403 "$(status "$WORK/walidata" -H 'Serambi-Filename: x.csv' --data-binary @"$WORK/faskes.csv" "$URL/v1/datasets/dinkes-malut/faskes/packages")"
same "a stranger pushing to a hidden dataset gets 404" 404 "$(status "$WORK/bi-malut" -H 'Serambi-Filename: x.csv' --data-binary @"$WORK/faskes.csv" "$URL/v1/datasets/dinkes-malut/imunisasi/packages")"

# Administration.
refuse "a producer cannot create datasets" "$SERAMBI" dataset create dinkes-malut/x --class biasa --title x --profile "$WORK/dinkes-malut"
check "a custodian creates datasets" "$SERAMBI" dataset create pemkab-halut/apbd --class biasa --title APBD --profile "$WORK/walidata"
same "a custodian cannot list principals" 404 "$(status "$WORK/walidata" "$URL/v1/principals")"
refuse "a custodian cannot add principals" "$SERAMBI" principal add eve --role admin --name Eve --out "$WORK/eve" --profile "$WORK/walidata"
check "and no profile was written" test ! -e "$WORK/eve/profile.toml"
contains "the admin lists principals" '"bi-malut"' "$("$SERAMBI" principal list --profile "$ADMIN")"
check "the request log names the refused caller" grep -q " bi-malut GET /v1/packages/$CLOSED 404" "$WORK/gateway.log"
finish
