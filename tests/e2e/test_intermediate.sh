# init --intermediate: the gateway issues from an intermediate CA and the root key leaves the
# deployment. Every issued chain verifies against the root alone; TLS, CSR enrolment, manifest
# signatures and the CRL work through the intermediate. And /metrics, which reports the chain's
# and the principals' certificate expiry.
source "$(dirname "$0")/lib.sh"
OFFLINE=$WORK/offline
mkdir -p "$OFFLINE"

refuse_saying "--intermediate without --root-key-out is refused" "go together" \
    "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" --intermediate
refuse_saying "a root key inside the deployment is refused" "outside the deployment" \
    "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" --intermediate --root-key-out "$DEP/root.key"
check "and neither left anything behind" test ! -e "$DEP"
touch "$OFFLINE/taken.key"
refuse_saying "an existing root key file is not overwritten" "exists" \
    "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" --intermediate --root-key-out "$OFFLINE/taken.key"
same "and keeps its contents" 0 "$(stat -c %s "$OFFLINE/taken.key")"
ln -s "$OFFLINE/nowhere/root.key" "$OFFLINE/dangling.key"
refuse_saying "a dangling link is not followed" "is a link" \
    "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" --intermediate --root-key-out "$OFFLINE/dangling.key"
check "and nothing was left behind" test ! -e "$DEP" -a ! -e "$OFFLINE/nowhere"
touch "$WORK/a-file"
refuse_saying "a deployment directory that cannot be made is refused" "cannot create" \
    "$SERAMBI" init "$WORK/a-file/dep" --listen "127.0.0.1:$PORT" --intermediate --root-key-out "$OFFLINE/early.key"
check "and the root key written before it is removed again" test ! -e "$OFFLINE/early.key"
mkdir -p "$WORK/existing" && echo keep > "$WORK/existing/notes.txt" && echo "not a directory" > "$WORK/existing/profiles"
refuse "a failure part-way in a directory that existed before" "$SERAMBI" init "$WORK/existing" --listen "127.0.0.1:$PORT"
same "takes out what it added and leaves what was there" "notes.txt profiles" "$(ls "$WORK/existing" | xargs)"

check "init --intermediate creates the deployment" \
    "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" --intermediate --root-key-out "$OFFLINE/root.key" --ca-days 7300 --province Malut
ADMIN=$DEP/profiles/admin
PKI=$DEP/pki
same "the root key is written 0600 where it was asked" 600 "$(stat -c %a "$OFFLINE/root.key")"
awk '/BEGIN CERT/{n++} n==1' "$PKI/ca.crt" > "$WORK/intermediate.crt"
awk '/BEGIN CERT/{n++} n==2' "$PKI/ca.crt" > "$WORK/root.crt"
same "ca.crt holds the intermediate, then the root" 2 "$(grep -c 'BEGIN CERTIFICATE' "$PKI/ca.crt")"
ROOT_PUB=$(openssl x509 -in "$WORK/root.crt" -noout -pubkey)
same "the root key file belongs to the root certificate" "$ROOT_PUB" "$(openssl pkey -in "$OFFLINE/root.key" -pubout)"
holds_root_key() {
    local f
    while IFS= read -r f; do
        [ "$(openssl pkey -in "$f" -pubout 2>/dev/null)" == "$ROOT_PUB" ] && return 0
    done < <(grep -rl "PRIVATE KEY" "$DEP")
    return 1
}
refuse "no file in the deployment holds the root key" holds_root_key
check "the root is self-signed" openssl verify -CAfile "$WORK/root.crt" "$WORK/root.crt"
contains "the intermediate may sign only end-entity certificates" "pathlen:0" "$(openssl x509 -in "$WORK/intermediate.crt" -noout -ext basicConstraints)"
root_days=$(python3 -c 'import subprocess,datetime,sys
def d(f,w):
    t=subprocess.check_output(["openssl","x509","-in",f,"-noout","-"+w]).decode().split("=",1)[1].strip()
    return datetime.datetime.strptime(t,"%b %d %H:%M:%S %Y %Z")
print(round((d(sys.argv[1],"enddate")-d(sys.argv[1],"startdate")).total_seconds()/86400))' "$WORK/root.crt")
same "--ca-days sets the root's validity" 7300 "$root_days"
for pair in "$PKI/gateway.crt sslserver" "$PKI/signing.crt smimesign" "$ADMIN/client.crt sslclient"; do
    read -r cert purpose <<<"$pair"
    check "$(basename "$(dirname "$cert")")/$(basename "$cert") verifies against the root alone, for $purpose" \
        openssl verify -CAfile "$WORK/root.crt" -untrusted "$WORK/intermediate.crt" -purpose "$purpose" "$cert"
done
same "the gateway's certificate files carry the intermediate" 2 "$(grep -c 'BEGIN CERTIFICATE' "$PKI/gateway.crt")"
refuse "the admin's certificate does not verify without the intermediate" openssl verify -CAfile "$WORK/root.crt" "$ADMIN/client.crt"

start_gateway
check "a client trusting only the root reaches the gateway (it sends the intermediate)" \
    curl -sS --fail -o /dev/null --cacert "$WORK/root.crt" --cert "$ADMIN/client.crt" --key "$ADMIN/client.key" "$URL/v1/whoami"
contains "the CLI works through the chain" '"id":"admin"' "$("$SERAMBI" whoami --profile "$ADMIN" 2>&1)"

UNIT=$WORK/unit
"$SERAMBI" enroll --id dinkes-malut --out "$UNIT" >/dev/null 2>&1
check "a unit enrolled by CSR is registered" "$SERAMBI" principal add dinkes-malut --role producer --name "Dinas Kesehatan" \
    --csr "$UNIT/client.csr" --age-recipient "$(cat "$UNIT/age.recipient")" --out "$WORK/handover" --profile "$ADMIN"
check "its certificate verifies against the root alone" \
    openssl verify -CAfile "$WORK/root.crt" -untrusted "$WORK/intermediate.crt" "$WORK/handover/client.crt"
cp "$WORK/handover/client.crt" "$WORK/handover/ca.crt" "$WORK/handover/profile.toml" "$UNIT/"
contains "and its profile works" '"id":"dinkes-malut"' "$("$SERAMBI" whoami --profile "$UNIT" 2>&1)"
check "it renews through the intermediate" "$SERAMBI" renew --profile "$UNIT"
check "and the renewed certificate verifies against the root alone" \
    openssl verify -CAfile "$WORK/root.crt" -untrusted "$WORK/intermediate.crt" -purpose sslclient "$UNIT/client.crt"

"$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title Faskes --profile "$ADMIN" >/dev/null
head -c 300000 /dev/urandom > "$WORK/data.bin"
ID=$("$SERAMBI" push dinkes-malut/faskes "$WORK/data.bin" -q --profile "$UNIT" | json_field package_id)
check "a package is pushed and pulled" "$SERAMBI" pull "$ID" -o "$WORK/pulled.bin" -q --profile "$UNIT"
check "serambi verify accepts it offline with the CA bundle" "$SERAMBI" verify "$WORK/pulled.bin" \
    --manifest "$WORK/pulled.bin.manifest.json" --signature "$WORK/pulled.bin.manifest.p7s" --ca "$UNIT/ca.crt"
check "serambi verify accepts it with the root alone (the signature carries the intermediate)" "$SERAMBI" verify "$WORK/pulled.bin" \
    --manifest "$WORK/pulled.bin.manifest.json" --signature "$WORK/pulled.bin.manifest.p7s" --ca "$WORK/root.crt"
check "so does openssl cms -verify with the root alone" openssl cms -verify -binary -inform DER -in "$WORK/pulled.bin.manifest.p7s" \
    -content "$WORK/pulled.bin.manifest.json" -CAfile "$WORK/root.crt" -purpose any -out /dev/null

# ---- /metrics
add_principal auditor auditor
METRICS=$(api "$ADMIN" "$URL/metrics")
contains "an admin reads /metrics" "# TYPE serambi_certificate_not_after_seconds gauge" "$METRICS"
same "it is served as Prometheus text" "text/plain; version=0.0.4; charset=utf-8" \
    "$(api "$ADMIN" -o /dev/null -w '%{content_type}' "$URL/metrics")"
intermediate_end=$(date -u -d "$(openssl x509 -in "$WORK/intermediate.crt" -noout -enddate | cut -d= -f2)" +%s)
same "it gives the intermediate's end date" "$intermediate_end" \
    "$(metric "$METRICS" serambi_certificate_not_after_seconds 'kind="ca"' 'name="Serambi CA Malut"' "serial=\"$(openssl x509 -in "$WORK/intermediate.crt" -noout -serial | cut -d= -f2)\"")"
contains "and the root's" 'kind="ca",name="Serambi Root CA Malut"' "$METRICS"
unit_end=$(date -u -d "$(openssl x509 -in "$UNIT/client.crt" -noout -enddate | cut -d= -f2)" +%s)
same "and each principal's" "$unit_end" "$(metric "$METRICS" serambi_certificate_not_after_seconds 'kind="principal"' 'name="dinkes-malut"')"
contains "nothing expires soon yet" "serambi_certificates_expiring 0" "$METRICS"
check "an auditor reads it too" curl -sS --fail -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$WORK/auditor/client.crt" --key "$WORK/auditor/client.key" "$URL/metrics"
same "a producer gets 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$UNIT/ca.crt" --cert "$UNIT/client.crt" --key "$UNIT/client.key" "$URL/metrics")"
same "a producer's POST gets 404 too: the route is not revealed" 404 "$(curl -s -o /dev/null -w '%{http_code}' -X POST --cacert "$UNIT/ca.crt" --cert "$UNIT/client.crt" --key "$UNIT/client.key" "$URL/metrics")"
same "an admin's POST is refused" 405 "$(status "$ADMIN" -X POST "$URL/metrics")"
refused_before=$(api "$ADMIN" "$URL/metrics" | awk '$1=="serambi_handshakes_refused_total"{print $2}')
client_errors_before=$(metric "$(api "$ADMIN" "$URL/metrics")" serambi_responses_total 'code="4xx"')
refuse "and without a client certificate the handshake fails" curl -sS --fail -o /dev/null --cacert "$ADMIN/ca.crt" "$URL/metrics"
same "the refused handshake is counted" $((refused_before + 1)) "$(api "$ADMIN" "$URL/metrics" | awk '$1=="serambi_handshakes_refused_total"{print $2}')"
status "$UNIT" "$URL/metrics" >/dev/null
same "requests are counted by status class" $((client_errors_before + 1)) "$(metric "$(api "$ADMIN" "$URL/metrics")" serambi_responses_total 'code="4xx"')"

# A principal whose certificate ends within 30 days raises the warning, in /metrics and the log.
stop_gateway
set_config principal_days 10
start_gateway
add_principal bps-malut partner
METRICS=$(api "$ADMIN" "$URL/metrics")
same "a certificate ending within 30 days raises a warning in /metrics" 1 \
    "$(metric "$METRICS" serambi_certificate_expiry_warning 'kind="principal",name="bps-malut"' 'state="expiring"')"
contains "and is counted" "serambi_certificates_expiring 1" "$METRICS"
"$SERAMBI" principal revoke bps-malut --reason affiliationChanged --profile "$ADMIN" >/dev/null 2>&1
METRICS=$(api "$ADMIN" "$URL/metrics")
contains "a revoked one no longer does" "serambi_certificates_expiring 0" "$METRICS"
contains "it counts the revoked principal" 'serambi_principals{revoked="true"} 1' "$METRICS"

# The CRL comes from the intermediate and openssl honours it through the chain.
"$SERAMBI" principal revoke dinkes-malut --reason keyCompromise --profile "$ADMIN" >/dev/null 2>&1
api "$ADMIN" -o "$WORK/crl.der" "$URL/v1/pki/crl"
openssl crl -inform DER -in "$WORK/crl.der" -out "$WORK/crl.pem"
contains "the CRL is issued by the intermediate" "Serambi CA Malut" "$(openssl crl -in "$WORK/crl.pem" -noout -issuer)"
refuse_saying "openssl verify -crl_check refuses the revoked certificate through the chain" "revoked" \
    openssl verify -crl_check -CAfile "$WORK/root.crt" -untrusted "$WORK/intermediate.crt" -CRLfile "$WORK/crl.pem" "$UNIT/client.crt"
check "and accepts the admin's" \
    openssl verify -crl_check -CAfile "$WORK/root.crt" -untrusted "$WORK/intermediate.crt" -CRLfile "$WORK/crl.pem" "$ADMIN/client.crt"
refuse "the revoked unit is refused at the handshake" "$SERAMBI" whoami --profile "$UNIT"

"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$WORK/auditor" 2>/dev/null
contains "every scrape is in the access log" '"action":"metrics"' "$(cat "$WORK/log.jsonl")"
contains "the producer's refused scrape too, with the policy's reason" "only an admin or an auditor may read" "$(grep '"action":"metrics"' "$WORK/log.jsonl")"
finish
