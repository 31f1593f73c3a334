# Deployments are created whole, never overwritten; bad configuration stops the start with the key named.
source "$(dirname "$0")/lib.sh"
init_deployment
for f in serambi.toml master.key serambi.db policy.toml pki/ca.crt pki/ca.key pki/gateway.crt pki/gateway.key pki/signing.crt pki/signing.key profiles/admin/client.key; do
    check "init created $f" test -s "$DEP/$f"
done
for f in master.key pki/ca.key pki/gateway.key pki/signing.key profiles/admin/client.key; do
    same "$f is readable by its owner only" 600 "$(stat -c %a "$DEP/$f")"
done
check "openssl verifies the gateway certificate against the CA" openssl verify -CAfile "$DEP/pki/ca.crt" -purpose sslserver "$DEP/pki/gateway.crt"
check "and the signing certificate, for S/MIME signing" openssl verify -CAfile "$DEP/pki/ca.crt" -purpose smimesign "$DEP/pki/signing.crt"
check "openssl verifies the admin certificate against the CA" openssl verify -CAfile "$DEP/pki/ca.crt" -purpose sslclient "$DEP/profiles/admin/client.crt"
contains "the CA key is ECDSA P-256" "prime256v1" "$(openssl pkey -in "$DEP/pki/ca.key" -noout -text 2>/dev/null | grep -i 'ASN1 OID')"
before=$(sha256sum "$DEP/master.key")
refuse "init refuses to overwrite a deployment" "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT"
same "the master key is untouched" "$before" "$(sha256sum "$DEP/master.key")"
refuse "init refuses a listen address that is not IP:PORT" "$SERAMBI" init "$WORK/x" --listen nowhere
refuse "init refuses a port out of range" "$SERAMBI" init "$WORK/y" --listen 127.0.0.1:70000

cp "$DEP/serambi.toml" "$WORK/good.toml"
sed -i 's/^\[limits\]$/[limits]\nmax_body = 5/' "$DEP/serambi.toml"
out=$("$SERAMBI" serve --config "$DEP/serambi.toml" 2>&1); rc=$?
same "an unknown key stops the start" 2 "$rc"
contains "naming the key" "limits.max_body: unknown key" "$out"
cp "$WORK/good.toml" "$DEP/serambi.toml"
set_config threads 0
out=$("$SERAMBI" serve --config "$DEP/serambi.toml" 2>&1); rc=$?
contains "an out-of-range value names the key" "server.threads" "$out"
cp "$WORK/good.toml" "$DEP/serambi.toml"
printf 'version = 2\n[levels.biasa]\nreaders = ["everyone"]\n' > "$DEP/policy.toml"
out=$("$SERAMBI" serve --config "$DEP/serambi.toml" 2>&1); rc=$?
check "a bad policy stops the start" test "$rc" -ne 0
contains "naming the file and line" "policy.toml:3" "$out"
"$SERAMBI" init "$WORK/fresh" --listen "127.0.0.1:$PORT" >/dev/null
cp "$WORK/fresh/policy.toml" "$DEP/policy.toml"
start_gateway
contains "a good configuration starts and says where it listens" "listening on https://127.0.0.1:$PORT" "$(cat "$WORK/gateway.log")"
finish
