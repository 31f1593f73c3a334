# init --import-ca: a province that already runs a CA hierarchy (here, made with openssl, an RSA
# root, a provincial middle CA under it, and an ECDSA P-384 issuing CA for persandian under that)
# adopts it instead of a generated one. What cannot work is refused before anything is written,
# and no other CA in the hierarchy can speak for the gateway or its principals.
source "$(dirname "$0")/lib.sh"
CA=$WORK/existing-ca
mkdir -p "$CA"
cd "$CA" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -subj "/C=ID/O=Pemprov Maluku Utara/CN=Root CA Pemprov Malut" \
    -days 3650 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.crt 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' > ca.ext
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > leaf.ext
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > nocrl.ext
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' > middle.ext
issue_ca() { # NAME KEYSPEC DAYS EXT [ISSUER]
    local issuer=${5:-root}
    openssl req -new -newkey "$2" -nodes -keyout "$1.key" -subj "/C=ID/O=Pemprov Maluku Utara/CN=$1" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA "$issuer.crt" -CAkey "$issuer.key" -days "$3" -extfile "$4" -out "$1.crt" 2>/dev/null
}
issue_ca middle-malut ec:<(openssl ecparam -name prime256v1) 300 middle.ext
issue_ca persandian-malut ec:<(openssl ecparam -name secp384r1) 200 ca.ext middle-malut
issue_ca other ec:<(openssl ecparam -name prime256v1) 200 ca.ext
issue_ca leaf ec:<(openssl ecparam -name prime256v1) 200 leaf.ext
issue_ca weak rsa:1024 200 ca.ext
issue_ca nocrl ec:<(openssl ecparam -name prime256v1) 200 nocrl.ext
issue_ca lapsed ec:<(openssl ecparam -name prime256v1) 0 ca.ext
openssl pkey -in persandian-malut.key -aes256 -passout pass:rahasia -out encrypted.key
cat persandian-malut.crt middle-malut.crt root.crt > bundle.crt
cat lapsed.crt root.crt > lapsed-bundle.crt
cat persandian-malut.crt middle-malut.crt > chain.crt
cd - >/dev/null || exit 1
sleep 1.1  # the lapsed CA's one second

import() { # CERT KEY
    "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" --import-ca "$CA/$1" --import-ca-key "$CA/$2"
}
refuse_saying "a key that is not the CA's is refused" "does not belong" import bundle.crt other.key
refuse_saying "a certificate that is not a CA is refused" "not a CA certificate" import leaf.crt leaf.key
refuse_saying "a CA without its chain to the root is refused" "put the CA certificate first" import persandian-malut.crt persandian-malut.key
refuse_saying "an expired CA is refused" "expired" import lapsed-bundle.crt lapsed.key
refuse_saying "a weak RSA key is refused" "2048" bash -c "cat '$CA/weak.crt' '$CA/root.crt' > '$WORK/weak-bundle.crt' && '$SERAMBI' init '$DEP' --listen 127.0.0.1:$PORT --import-ca '$WORK/weak-bundle.crt' --import-ca-key '$CA/weak.key'"
refuse_saying "a CA that may not sign CRLs is refused" "cRLSign" bash -c "cat '$CA/nocrl.crt' '$CA/root.crt' > '$WORK/nocrl-bundle.crt' && '$SERAMBI' init '$DEP' --listen 127.0.0.1:$PORT --import-ca '$WORK/nocrl-bundle.crt' --import-ca-key '$CA/nocrl.key'"
refuse_saying "a passphrase-protected key is refused with the reason" "passphrase" import bundle.crt encrypted.key
refuse_saying "a missing file is named" "--import-ca-key" import bundle.crt missing.key
cat "$CA/bundle.crt" "$CA/lapsed.crt" > "$WORK/extra-bundle.crt"
refuse_saying "a bundle with a certificate that is not on the path is refused (it would become trusted)" "not issued by the one after it" \
    "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" --import-ca "$WORK/extra-bundle.crt" --import-ca-key "$CA/persandian-malut.key"
refuse_saying "--import-ca without its key is refused" "go together" "$SERAMBI" init "$DEP" --import-ca "$CA/bundle.crt"
check "none of the refusals left a deployment behind" test ! -e "$DEP"

# A bundle file with a private key in it: only the certificates are adopted.
cat "$CA/bundle.crt" "$CA/other.key" > "$WORK/careless-bundle.crt"
check "the CA is imported" "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" --import-ca "$WORK/careless-bundle.crt" \
    --import-ca-key "$CA/persandian-malut.key"
ADMIN=$DEP/profiles/admin
PKI=$DEP/pki
same "ca.crt holds the issuing CA, the middle CA and the root" 3 "$(grep -c 'BEGIN CERTIFICATE' "$PKI/ca.crt")"
refuse "and no private key that came along in the file" grep -q "PRIVATE KEY" "$PKI/ca.crt" "$ADMIN/ca.crt"
same "the imported key is kept 0600" 600 "$(stat -c %a "$PKI/ca.key")"
for cert in "$PKI/gateway.crt" "$PKI/signing.crt" "$ADMIN/client.crt"; do
    check "$(basename "$cert") verifies against the province's root alone" \
        openssl verify -CAfile "$CA/root.crt" -untrusted "$CA/chain.crt" "$cert"
done
contains "certificates are issued by the imported CA" "CN = persandian-malut" "$(openssl x509 -in "$ADMIN/client.crt" -noout -issuer)"
same "none outlives it: the admin's year is cut to the CA's 200 days" \
    "$(openssl x509 -in "$CA/persandian-malut.crt" -noout -enddate)" "$(openssl x509 -in "$ADMIN/client.crt" -noout -enddate)"

start_gateway
check "the gateway serves with the imported CA" \
    curl -sS --fail -o /dev/null --cacert "$CA/root.crt" --cert "$ADMIN/client.crt" --key "$ADMIN/client.key" "$URL/v1/whoami"
add_principal dinkes-malut producer
check "a principal it issues works" "$SERAMBI" whoami --profile "$WORK/dinkes-malut"
"$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title Faskes --profile "$ADMIN" >/dev/null
head -c 100000 /dev/urandom > "$WORK/data.bin"
ID=$("$SERAMBI" push dinkes-malut/faskes "$WORK/data.bin" -q --profile "$WORK/dinkes-malut" | json_field package_id)
"$SERAMBI" pull "$ID" -o "$WORK/pulled.bin" -q --profile "$WORK/dinkes-malut" >/dev/null
check "manifests verify against the province's root" "$SERAMBI" verify "$WORK/pulled.bin" \
    --manifest "$WORK/pulled.bin.manifest.json" --signature "$WORK/pulled.bin.manifest.p7s" --ca "$CA/root.crt"
"$SERAMBI" principal revoke dinkes-malut --reason keyCompromise --profile "$ADMIN" >/dev/null 2>&1
api "$ADMIN" -o "$WORK/crl.der" "$URL/v1/pki/crl"
openssl crl -inform DER -in "$WORK/crl.der" -out "$WORK/crl.pem"
check "the CRL is signed with the imported key" openssl crl -in "$WORK/crl.pem" -noout -CAfile "$PKI/ca.crt"
refuse_saying "and openssl verify -crl_check honours it" "revoked" \
    openssl verify -crl_check -CAfile "$CA/root.crt" -untrusted "$CA/chain.crt" -CRLfile "$WORK/crl.pem" "$WORK/dinkes-malut/client.crt"

# Another CA under the province's root (a sibling of ours) must not be able to speak for our
# principals or our signing certificate, even with the admin's name and serial.
ADMIN_SERIAL=$(openssl x509 -in "$ADMIN/client.crt" -noout -serial | cut -d= -f2)
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/forged.key" 2>/dev/null
openssl req -new -key "$WORK/forged.key" -subj "/O=Serambi/CN=admin" -out "$WORK/forged.csr"
printf 'subjectAltName=URI:serambi:principal:admin\nextendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' > "$WORK/client.ext"
openssl x509 -req -in "$WORK/forged.csr" -CA "$CA/other.crt" -CAkey "$CA/other.key" -set_serial "0x$ADMIN_SERIAL" -days 30 \
    -extfile "$WORK/client.ext" -out "$WORK/forged.crt" 2>/dev/null
same "(the forgery carries the admin's serial)" "$ADMIN_SERIAL" "$(openssl x509 -in "$WORK/forged.crt" -noout -serial | cut -d= -f2)"
check "(and openssl accepts it under the province's root)" openssl verify -CAfile "$CA/root.crt" -untrusted "$CA/other.crt" "$WORK/forged.crt"
cat "$WORK/forged.crt" "$CA/other.crt" > "$WORK/forged-chain.crt"
refuse "a certificate from a sibling CA is refused at the handshake" \
    curl -sS --fail -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$WORK/forged-chain.crt" --key "$WORK/forged.key" "$URL/healthz"
contains "and the log says it is not trusted" "certificate not trusted" "$(grep 'handshake refused' "$WORK/gateway.log" | tail -1)"
openssl req -new -key "$WORK/forged.key" -subj "/O=Serambi/CN=serambi-manifest-signing" -out "$WORK/forged-signing.csr"
printf 'keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n' > "$WORK/signing.ext"
openssl x509 -req -in "$WORK/forged-signing.csr" -CA "$CA/other.crt" -CAkey "$CA/other.key" -days 30 \
    -extfile "$WORK/signing.ext" -out "$WORK/forged-signing.crt" 2>/dev/null
openssl cms -sign -binary -outform DER -signer "$WORK/forged-signing.crt" -inkey "$WORK/forged.key" -certfile "$CA/other.crt" \
    -in "$WORK/pulled.bin.manifest.json" -out "$WORK/forged.p7s"
refuse_saying "a manifest signed under a sibling CA is refused with the gateway's CA bundle" "not from the gateway's CA" \
    "$SERAMBI" verify "$WORK/pulled.bin" --manifest "$WORK/pulled.bin.manifest.json" --signature "$WORK/forged.p7s" --ca "$ADMIN/ca.crt"

# The middle CA is in our own bundle (it is on the path to the root), yet it is not ours either.
openssl x509 -req -in "$WORK/forged.csr" -CA "$CA/middle-malut.crt" -CAkey "$CA/middle-malut.key" -set_serial "0x$ADMIN_SERIAL" \
    -days 30 -extfile "$WORK/client.ext" -out "$WORK/middle-forged.crt" 2>/dev/null
refuse "a certificate straight from the bundle's middle CA is refused at the handshake" \
    curl -sS --fail -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$WORK/middle-forged.crt" --key "$WORK/forged.key" "$URL/healthz"
openssl x509 -req -in "$WORK/forged-signing.csr" -CA "$CA/middle-malut.crt" -CAkey "$CA/middle-malut.key" -days 30 \
    -extfile "$WORK/signing.ext" -out "$WORK/middle-signing.crt" 2>/dev/null
openssl cms -sign -binary -outform DER -signer "$WORK/middle-signing.crt" -inkey "$WORK/forged.key" \
    -in "$WORK/pulled.bin.manifest.json" -out "$WORK/middle.p7s"
refuse_saying "and so is a manifest it signed" "not from the gateway's CA" \
    "$SERAMBI" verify "$WORK/pulled.bin" --manifest "$WORK/pulled.bin.manifest.json" --signature "$WORK/middle.p7s" --ca "$ADMIN/ca.crt"

# A gateway certificate from the middle CA, with the right names: the CLI will not talk to it.
SAN=$(openssl x509 -in "$PKI/gateway.crt" -noout -ext subjectAltName | tail -n +2 | sed 's/IP Address:/IP:/g; s/ //g')
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' "$SAN" > "$WORK/gateway.ext"
openssl req -new -key "$WORK/forged.key" -subj "/O=Serambi/CN=serambi-gateway" -out "$WORK/gw.csr"
openssl x509 -req -in "$WORK/gw.csr" -CA "$CA/middle-malut.crt" -CAkey "$CA/middle-malut.key" -days 30 \
    -extfile "$WORK/gateway.ext" -out "$WORK/gw.crt" 2>/dev/null
cat "$WORK/gw.crt" "$CA/middle-malut.crt" > "$PKI/gateway.crt"
install -m 600 "$WORK/forged.key" "$PKI/gateway.key"
kill -HUP "$GW_PID"
wait_for 5 grep -q "reload: TLS and signing certificates replaced" "$WORK/gateway.log"
check "(curl, trusting the whole bundle, accepts that certificate)" \
    curl -sS --fail -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$ADMIN/client.crt" --key "$ADMIN/client.key" "$URL/v1/whoami"
refuse_saying "the CLI refuses a gateway certificate that is not from the gateway's CA" "certificate not trusted" \
    "$SERAMBI" whoami --profile "$ADMIN"
check "pki renew-gateway puts a proper one back" "$SERAMBI" pki renew-gateway --config "$DEP/serambi.toml" --only tls
kill -HUP "$GW_PID"
reloaded_twice() { [ "$(grep -c 'reload: TLS and signing certificates replaced' "$WORK/gateway.log")" -eq 2 ]; }
wait_for 5 reloaded_twice
contains "and the CLI talks to the gateway again" '"id":"admin"' "$("$SERAMBI" whoami --profile "$ADMIN" 2>&1)"
finish
