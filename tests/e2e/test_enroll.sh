# Enrolment by certificate request: the unit makes its own keys, the admin never holds them.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
UNIT=$WORK/unit
check "enroll makes the unit's keys and request on its machine" "$SERAMBI" enroll --id opd-baru --out "$UNIT"
same "client.key is private" 600 "$(stat -c %a "$UNIT/client.key")"
same "age.key is private" 600 "$(stat -c %a "$UNIT/age.key")"
check "the request names the principal" bash -c "openssl req -in '$UNIT/client.csr' -noout -subject | grep -q 'CN *= *opd-baru'"
refuse_saying "enrolling twice into the same directory is refused" "already holds a key" "$SERAMBI" enroll --id opd-baru --out "$UNIT"
refuse_saying "a request is registered only under its own id" "is a request for 'opd-baru'" \
    "$SERAMBI" principal add opd-lain --role producer --name x --csr "$UNIT/client.csr" --out "$WORK/lain" --profile "$ADMIN"
check "the admin registers the request" "$SERAMBI" principal add opd-baru --role producer --name "OPD Baru" \
    --csr "$UNIT/client.csr" --age-recipient "$(cat "$UNIT/age.recipient")" --out "$WORK/handover" --profile "$ADMIN"
check "and hands back no key at all" test ! -e "$WORK/handover/client.key" -a ! -e "$WORK/handover/age.key"
check "the issued certificate chains to the gateway CA" openssl verify -CAfile "$WORK/handover/ca.crt" "$WORK/handover/client.crt"
contains "it names the principal in its SAN URI" "serambi:principal:opd-baru" "$(openssl x509 -in "$WORK/handover/client.crt" -noout -ext subjectAltName)"
cp "$WORK/handover/client.crt" "$WORK/handover/ca.crt" "$WORK/handover/profile.toml" "$UNIT/"
contains "beside the unit's own key, the profile works" '"id":"opd-baru"' "$("$SERAMBI" whoami --profile "$UNIT" 2>&1)"
same "the registered age recipient is the unit's" "$(cat "$UNIT/age.recipient")" "$("$SERAMBI" recipient show --profile "$UNIT")"
finish
