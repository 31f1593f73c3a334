# Shared helpers for the end-to-end tests: a real deployment in a temporary directory, the real
# `serambi serve` on a free loopback port, and assertions that count what passed.
set -uo pipefail

SERAMBI=${SERAMBI_BIN:?set SERAMBI_BIN to the serambi binary}
# The CLI speaks the locale's language: the tests read its English unless a check asks for
# Indonesian (LANG=id_ID.UTF-8 on that command), whatever the machine running them is set to.
export LANG=C.UTF-8
unset LC_ALL LC_MESSAGES LANGUAGE
WORK=$(mktemp -d /tmp/serambi-e2e.XXXXXX)
DEP=$WORK/dep
GW_PID=
PASSED=0
FAILED=0

cleanup() {
    if [ -n "$GW_PID" ]; then kill -9 "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; fi
    if [ "$FAILED" -gt 0 ] && [ -f "$WORK/gateway.log" ]; then
        echo "--- gateway log (last 30 lines) ---"; tail -30 "$WORK/gateway.log"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
# refuse DESCRIPTION COMMAND...: the command must fail.
refuse() {
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then fail "$what"; else pass "$what"; fi
}
# refuse_saying DESCRIPTION TEXT COMMAND...: the command must fail, and say TEXT.
refuse_saying() {
    local what=$1 text=$2; shift 2
    local out
    if out=$("$@" 2>&1); then fail "$what (it succeeded)"; else contains "$what" "$text" "$out"; fi
}
# same DESCRIPTION EXPECTED ACTUAL
same() {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}
contains() {
    if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1 (no '$2' in: ${3:0:300})"; fi
}

# wait_for SECONDS COMMAND...: retry the command until it succeeds or time runs out.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

finish() {
    stop_gateway
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit $?
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

PORT=$(free_port)
URL=https://127.0.0.1:$PORT

init_deployment() {
    "$SERAMBI" init "$DEP" --listen "127.0.0.1:$PORT" >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log"; exit 1; }
    ADMIN=$DEP/profiles/admin
}

# set_config KEY VALUE: replace a `key = value` line of serambi.toml.
set_config() {
    sed -i "s|^$1 = .*|$1 = $2|" "$DEP/serambi.toml"
}

# start_gateway [SERVE-FLAGS...]
start_gateway() {
    "$SERAMBI" serve --config "$DEP/serambi.toml" "$@" >>"$WORK/gateway.log" 2>&1 &
    GW_PID=$!
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$ADMIN/client.crt" --key "$ADMIN/client.key" "$URL/healthz"; then
            return 0
        fi
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "the gateway did not start:"; cat "$WORK/gateway.log"; exit 1
}

# Stops the gateway with SIGTERM; it must exit 0 (under the sanitizers, a leak or an error
# report makes the exit status non-zero).
stop_gateway() {
    [ -n "$GW_PID" ] || return 0
    kill "$GW_PID" 2>/dev/null
    wait "$GW_PID" 2>/dev/null
    same "the gateway stops cleanly on SIGTERM" 0 "$?"
    GW_PID=
}

# api PROFILE CURL-ARGS...: curl with the profile's client certificate.
api() {
    local p=$1; shift
    curl -sS --cacert "$p/ca.crt" --cert "$p/client.crt" --key "$p/client.key" "$@"
}

# status PROFILE CURL-ARGS...: just the HTTP status code.
status() {
    local p=$1; shift
    api "$p" -o "$WORK/last_body" -w '%{http_code}' "$@"
}

add_principal() { # ID ROLE
    "$SERAMBI" principal add "$1" --role "$2" --name "Test $1" --out "$WORK/$1" --profile "$ADMIN" >/dev/null 2>&1 ||
        { echo "cannot add principal $1"; exit 1; }
}

package_count() { # PROFILE DATASET
    api "$1" "$URL/v1/datasets/$2/packages" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# Blob files in the store (quarantined ones are not). Payloads of up to 64 KiB have none: they
# are kept, sealed, in the database; package_count counts packages.
blob_count() {
    find "$DEP/blobs" -path "$DEP/blobs/quarantine" -prune -o -name '*.blob' -print | wc -l
}

json_field() { # FIELD < json
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# metric_value TEXT NAME: the value of the unlabelled series NAME.
metric_value() {
    printf '%s\n' "$1" | awk -v n="$2" '$1 == n {print $2; exit}'
}

# metric TEXT NAME FRAGMENT...: the value of the first NAME series in the Prometheus TEXT whose
# labels contain every FRAGMENT.
metric() {
    local text=$1 name=$2; shift 2
    local lines
    lines=$(printf '%s\n' "$text" | grep "^$name{")
    for fragment in "$@"; do lines=$(printf '%s\n' "$lines" | grep -F -- "$fragment"); done
    printf '%s\n' "$lines" | head -1 | awk '{print $NF}'
}

# Test certificates for servers the gateway connects to (webhook receivers, SMTP relays):
# make_test_ca DIR NAME makes DIR/NAME.crt and .key, a CA valid 3 days; issue_server_cert DIR CA
# NAME SUBJECT-ALT-NAMES makes DIR/NAME.crt and .key, a serverAuth certificate that CA issued.
make_test_ca() {
    printf '%s\n' "[req]" "distinguished_name = dn" "prompt = no" "[dn]" "CN = Serambi test CA $2" "[ca]" \
        "basicConstraints = critical, CA:TRUE" "keyUsage = critical, keyCertSign, cRLSign" \
        "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid:always" >"$1/$2.cnf"
    openssl req -x509 -config "$1/$2.cnf" -extensions ca -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1/$2.key" -out "$1/$2.crt" -days 3 >"$1/openssl.log" 2>&1 || { cat "$1/openssl.log"; exit 1; }
}
issue_server_cert() {
    printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
        "extendedKeyUsage = serverAuth" "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" \
        "subjectAltName = $4" >"$1/$3.ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/$3.key" -subj "/CN=$3" \
        -out "$1/$3.csr" >"$1/openssl.log" 2>&1 &&
        openssl x509 -req -in "$1/$3.csr" -CA "$1/$2.crt" -CAkey "$1/$2.key" -CAcreateserial -days 3 \
            -extfile "$1/$3.ext" -out "$1/$3.crt" >>"$1/openssl.log" 2>&1 || { cat "$1/openssl.log"; exit 1; }
}
