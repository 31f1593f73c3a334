#!/usr/bin/env bash
# Webhooks (Standard Webhooks) through the real server: hooks registered with the CLI, deliveries
# to a real HTTPS receiver (webhook_receiver.py, which checks every signature itself), retries with
# the same id and bytes, redirects not followed, receivers whose certificate is untrusted or names
# another host, nothing said about packages the recipient may not see, the release and expiry
# events, hostile URLs (SSRF), other principals' hooks, and the access log's hook.delivery entries.
source "$(dirname "$0")/lib.sh"
RECEIVER=$(cd "$(dirname "$0")" && pwd)/webhook_receiver.py
H=$WORK/hooks
mkdir -p "$H"
SECRETS=$H/secrets.txt
: >"$SECRETS"
RECEIVER_PIDS=()
stop_receivers() {
    local pid
    for pid in "${RECEIVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    RECEIVER_PIDS=()
}
on_exit() {
    if [ "$FAILED" -gt 0 ]; then
        for f in "$H"/*.err; do [ -s "$f" ] && { echo "--- $(basename "$f") ---"; tail -10 "$f"; }; done
    fi
    stop_receivers
    cleanup
}
trap on_exit EXIT

init_deployment
# Certificates issued from now on live 20 days, inside certificate.expiring's 30: every principal
# added below is told (the admin's, issued by init, lives 365 days and is not).
set_config principal_days 20

# ---- A private CA for the receivers, a rogue CA nobody trusts, and their certificates
make_test_ca "$H" ca
make_test_ca "$H" rogue
issue_server_cert "$H" ca receiver "DNS:localhost, IP:127.0.0.1"
issue_server_cert "$H" ca badname "DNS:wrong.example"
issue_server_cert "$H" rogue untrusted "DNS:localhost, IP:127.0.0.1"
check "the receiver's certificate verifies against the private CA" openssl verify -CAfile "$H/ca.crt" "$H/receiver.crt"

# start_receiver NAME CERT: a webhook_receiver.py on a free port; PORT_<NAME> is its port, and
# $H/NAME.jsonl its log.
start_receiver() {
    local port
    port=$(free_port)
    while [ "$port" == "$PORT" ]; do port=$(free_port); done
    python3 "$RECEIVER" --port "$port" --cert "$H/$2.crt" --key "$H/$2.key" --secret-file "$SECRETS" \
        --log "$H/$1.jsonl" --also-ipv6 >"$H/$1.out" 2>"$H/$1.err" &
    RECEIVER_PIDS+=("$!")
    wait_for 10 grep -q listening "$H/$1.out" || { echo "the receiver $1 did not start:"; cat "$H/$1.err"; exit 1; }
    printf -v "PORT_$1" '%s' "$port"
}
start_receiver main receiver
start_receiver untrusted untrusted
start_receiver badname badname
RLOG=$H/main.jsonl
R=https://localhost:$PORT_main

# set_webhooks KEY VALUE: a key of serambi.toml's [webhooks] table, whether or not init wrote one.
set_webhooks() {
    local toml=$DEP/serambi.toml
    grep -q '^\[webhooks\]' "$toml" || printf '\n[webhooks]\n' >>"$toml"
    if sed -n '/^\[webhooks\]/,/^\[/p' "$toml" | grep -q "^$1 = "; then
        sed -i "/^\[webhooks\]/,/^\[/ s|^$1 = .*|$1 = $2|" "$toml"
    else
        sed -i "/^\[webhooks\]/a $1 = $2" "$toml"
    fi
}
set_webhooks ca_file "\"$H/ca.crt\""
set_webhooks allowed_networks '["127.0.0.0/8", "::1/128"]'
set_webhooks retry_seconds '[1, 1, 1]'
set_webhooks scan_seconds 1
set_webhooks timeout_seconds 5
same "serambi.toml holds the test's settings" "20 [1, 1, 1] 1 ['127.0.0.0/8', '::1/128'] True" "$(python3 -c '
import sys, tomllib
t = tomllib.load(open(sys.argv[1], "rb"))
w = t["webhooks"]
print(t["pki"]["principal_days"], w["retry_seconds"], w["scan_seconds"], w["allowed_networks"], w["ca_file"] == sys.argv[2])' \
    "$DEP/serambi.toml" "$H/ca.crt")"
start_gateway

# ---- Helpers: the receiver's log, the CLI's hooks and deliveries
cat >"$WORK/logq.py" <<'PYEOF'
# logq.py LOG count FILTER... | values FIELD FILTER... | first FIELD FILTER... | distinct FIELD FILTER...
#          | flat FILTER... (the first matching line's fields: "a.b.c" NUL value NUL ...)
# FILTER: a.b.c=VALUE (equal), a.b.c!=VALUE, a.b.c^=PREFIX, a.b.c~=SERIAL (hex, any case, colons
# and leading zeros ignored). Fields are dotted paths into each line; non-strings compare as JSON.
import json, re, sys

def get(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj

def text(v):
    return "" if v is None else v if isinstance(v, str) else json.dumps(v)

def serial(s):
    return s.replace(":", "").lower().lstrip("0")

def match(line, f):
    m = re.match(r"^([A-Za-z0-9_.]+)(=|!=|\^=|~=)(.*)$", f, re.S)
    key, op, want = m.groups()
    have = text(get(line, key))
    return {"=": have == want, "!=": have != want, "^=": have.startswith(want),
            "~=": serial(have) == serial(want) and have != ""}[op]

log, mode = sys.argv[1], sys.argv[2]
field = sys.argv[3] if mode in ("values", "first", "distinct") else None
filters = sys.argv[4:] if field else sys.argv[3:]
try:
    lines = [json.loads(l) for l in open(log) if l.strip()]
except FileNotFoundError:
    lines = []
hits = [l for l in lines if all(match(l, f) for f in filters)]
if mode == "count":
    print(len(hits))
elif mode == "values":
    for l in hits:
        print(text(get(l, field)))
elif mode == "first":
    print(text(get(hits[0], field)) if hits else "")
elif mode == "distinct":
    print(len({text(get(l, field)) for l in hits}))
elif mode == "flat" and hits:
    def walk(prefix, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(prefix + k + ".", x)
        else:
            sys.stdout.write(prefix[:-1] + "\0" + text(v).replace("\0", "") + "\0")
    walk("", hits[0])
PYEOF
logq() { python3 "$WORK/logq.py" "$@"; }
# pick FILTER...: the first line of the main log that matches, its fields in REC; f FIELD prints one
declare -A REC
pick() {
    local k v
    REC=()
    while IFS= read -r -d '' k && IFS= read -r -d '' v; do REC[$k]=$v; done < <(logq "$RLOG" flat "$@")
}
f() { printf '%s' "${REC[$1]-}"; }
# seen N LOG FILTER...: at least N lines of LOG match
seen() { local n=$1; shift; [ "$(logq "$1" count "${@:2}")" -ge "$n" ]; }
# gateway_up: if the gateway died, say so and stop here rather than wait out every timeout.
gateway_up() {
    kill -0 "$GW_PID" 2>/dev/null && return 0
    fail "the gateway is still running (it exited: its log is below)"
    finish
}
# eventually DESCRIPTION SECONDS COMMAND...
eventually() {
    local what=$1 seconds=$2; shift 2
    gateway_up
    if wait_for "$seconds" "$@"; then pass "$what"; else gateway_up; fail "$what (not within ${seconds}s)"; fi
}
lacks() { # DESCRIPTION TEXT HAYSTACK
    if [[ "$3" == *"$2"* ]]; then fail "$1 ('$2' is there: ${3:0:300})"; else pass "$1"; fi
}
declare -A HOOK
# add_hook NAME PROFILE URL HOOK-ADD-ARGS...: registers a hook with the CLI; HOOK[NAME] is its id,
# $H/hook-NAME.json the answer, and the receiver learns its secret (for the URL's path).
add_hook() {
    local name=$1 profile=$2 url=$3 out
    shift 3
    HOOK[$name]=hook-missing
    if ! out=$("$SERAMBI" hook add "$url" "$@" --json --profile "$profile" 2>&1); then
        gateway_up
        fail "hook $name is registered ($out)"
        return 1
    fi
    printf '%s' "$out" >"$H/hook-$name.json"
    local id secret path
    read -r id secret path < <(python3 -c '
import json, sys, urllib.parse
h = json.load(open(sys.argv[1]))
print(h["id"], h["secret"], urllib.parse.urlsplit(sys.argv[2]).path)' "$H/hook-$name.json" "$url" 2>/dev/null)
    HOOK[$name]=${id:-hook-missing}
    printf '%s %s\n' "$path" "$secret" >>"$SECRETS"
}
# delivery HOOK PROFILE MSG-ID FIELD: a field of one delivery of the hook ("absent" if none)
delivery() {
    "$SERAMBI" hook deliveries "$1" --limit 500 --json --profile "$2" 2>/dev/null | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin) if x["id"] == sys.argv[1]]
v = d[0][sys.argv[2]] if d else "absent"
print("" if v is None else v if isinstance(v, str) else json.dumps(v))' "$3" "$4"
}
delivery_is() { [ "$(delivery "$1" "$2" "$3" state)" == "$4" ]; }
# oldest HOOK PROFILE FIELD: a field of the hook's first delivery (the list is newest first)
oldest() {
    "$SERAMBI" hook deliveries "$1" --limit 500 --json --profile "$2" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = d[-1][sys.argv[1]] if d else "absent"
print("" if v is None else v if isinstance(v, str) else json.dumps(v))' "$3"
}
oldest_is() { [ "$(oldest "$1" "$2" state)" == "$3" ]; }
hook_ids() { # PROFILE: the ids of the live hooks `hook list` shows (none removed), sorted, one line
    "$SERAMBI" hook list --json --profile "$1" 2>/dev/null | python3 -c '
import json, sys
try:
    print(" ".join(sorted(h["id"] for h in json.load(sys.stdin) if not h.get("removed_at"))))
except Exception as e:
    print("(hook list unreadable: %s)" % e)'
}
push() { # (the CLI would retry a gateway that is gone for minutes)
    kill -0 "$GW_PID" 2>/dev/null || return 1
    "$SERAMBI" push "$1" "$2" -q --no-proof --allow-duplicate --profile "$P" | json_field package_id
}
# one_line FIELD FILTER...: the values of FIELD of matching lines of the main log, on one line
one_line() { logq "$RLOG" values "$@" | tr '\n' ' ' | sed 's/ $//'; }

# ---- An admin's hook for everyone, registered before any other principal exists
ADMIN_ID=$("$SERAMBI" whoami --json --profile "$ADMIN" | json_field id)
add_hook everyone "$ADMIN" "$R/ok/everyone" --event package.arrived --event release.requested \
    --event certificate.expiring --everyone
if [ "${HOOK[everyone]}" == hook-missing ]; then
    echo "the gateway registers no hooks: nothing else can be tested"
    finish
fi
same "an admin may register a hook for everyone" True "$(json_field everyone <"$H/hook-everyone.json")"

add_principal dinkes-malut producer
add_principal walidata custodian
add_principal walidata-dua custodian
add_principal bi-malut partner
add_principal telkom partner
add_principal inspektorat auditor
P=$WORK/dinkes-malut
C=$WORK/walidata
C2=$WORK/walidata-dua
BI=$WORK/bi-malut
TK=$WORK/telkom
A=$WORK/inspektorat
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title Gizi --profile "$C" >/dev/null
"$SERAMBI" dataset create dinkes-malut/anggaran --class rahasia --title Anggaran --profile "$C" >/dev/null
"$SERAMBI" dataset create dinkes-malut/internal --class terbatas --title Internal --profile "$C" >/dev/null
"$SERAMBI" dataset create dinkes-malut/umum --class biasa --title Umum --profile "$C" >/dev/null
"$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/gizi,dinkes-malut/anggaran' \
    --max-class rahasia --purpose kajian --valid-from "$(date -u -d yesterday +%F)" \
    --valid-until "$(date -u -d '+30 days' +%F)" --profile "$C" >/dev/null

# ---- Registering
add_hook main "$BI" "$R/ok/bi-malut" --event package.arrived --event release.approved --event release.refused \
    --event approval.expiring --event certificate.expiring
add_hook twice "$BI" "$R/fail-twice/bi-malut" --event package.arrived
add_hook always "$BI" "$R/fail-always/bi-malut" --event package.arrived
add_hook redirect "$BI" "$R/redirect/bi-malut" --event package.arrived
add_hook ip "$BI" "https://127.0.0.1:$PORT_main/ok/bi-ip" --event package.arrived
add_hook untrusted "$BI" "https://localhost:$PORT_untrusted/ok/untrusted" --event package.arrived
add_hook badname "$BI" "https://localhost:$PORT_badname/ok/badname" --event package.arrived
add_hook gone "$BI" "$R/ok/bi-gone" --event package.arrived
add_hook custodian "$C" "$R/ok/walidata" --event release.requested --event package.arrived
add_hook custodian2 "$C2" "$R/ok/walidata-dua" --event release.requested
add_hook producer "$P" "$R/ok/dinkes-malut" --event release.requested --event package.arrived
check "the answer is the hook, with its secret shown once" python3 - "$H/hook-main.json" "$R/ok/bi-malut" <<'PYEOF'
import base64, datetime, json, re, sys
h = json.load(open(sys.argv[1]))
assert re.fullmatch(r"hook-[0-9a-f]{16}", h["id"]), h
assert h["owner"] == "bi-malut" and h["everyone"] is False and h["url"] == sys.argv[2], h
assert sorted(h["events"]) == sorted(["package.arrived", "release.approved", "release.refused",
                                      "approval.expiring", "certificate.expiring"]), h
assert h["created_at"].endswith("Z"), h
datetime.datetime.fromisoformat(h["created_at"].replace("Z", "+00:00"))
assert h["secret"].startswith("whsec_") and len(base64.b64decode(h["secret"][6:], validate=True)) == 32, h
PYEOF
same "each hook has its own secret" 12 "$(cut -d' ' -f2 "$SECRETS" | sort -u | wc -l)"
listing=$("$SERAMBI" hook list --json --profile "$BI")
same "hook list shows the partner its eight hooks" 8 "$(echo "$listing" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
same "all its own" bi-malut "$(echo "$listing" | python3 -c 'import json,sys; print(",".join(sorted({h["owner"] for h in json.load(sys.stdin)})))')"
lacks "and without their secrets" secret "$listing"
listings=$listing$("$SERAMBI" hook list --json --profile "$ADMIN")
shown=0
while read -r _ secret; do
    [ ${#secret} -ge 40 ] && [[ "$listings" == *"${secret#whsec_}"* ]] && shown=$((shown + 1))
done <"$SECRETS"
same "no listing, not even an admin's, shows any hook's secret" 0 "$shown"
check "piped, hook list prints the API's JSON" python3 -c 'import json,sys; v = json.load(sys.stdin); assert isinstance(v, list) and len(v) == 8, v' \
    < <("$SERAMBI" hook list --profile "$BI")

# ---- package.arrived: ids and metadata, never content, to those who may see the package
MARKER=isi-paket-$(python3 -c 'import secrets; print(secrets.token_hex(12))')
printf '%s-gizi\n' "$MARKER" >"$WORK/gizi.csv"
P1=$(push dinkes-malut/gizi "$WORK/gizi.csv")
eventually "a push the partner's agreement covers reaches its hook (package.arrived)" 20 \
    seen 1 "$RLOG" path=/ok/bi-malut body.type=package.arrived body.data.package_id="$P1"
pick path=/ok/bi-malut body.type=package.arrived body.data.package_id="$P1"
same "its signature verifies with the hook's secret (Standard Webhooks)" true "$(f signature_ok)"
same "the recipient is the partner" bi-malut "$(f body.data.recipient)"
same "the dataset" dinkes-malut/gizi "$(f body.data.dataset)"
same "the file's name" gizi.csv "$(f body.data.filename)"
same "its size" "$(stat -c %s "$WORK/gizi.csv")" "$(f body.data.size)"
same "its classification" terbatas "$(f body.data.classification)"
same "its producer" dinkes-malut "$(f body.data.producer)"
same "and that the partner may pull it (released)" released "$(f body.data.access)"
same "the receiver answered 204" 204 "$(f status)"
same "TLS named the host (SNI)" localhost "$(f sni)"
same "user-agent: serambi-gateway" serambi-gateway "$(f user_agent)"
contains "content-type: application/json" application/json "$(f content_type)"
check "webhook-id is msg_ and 32 hex digits" grep -Eqx 'msg_[0-9a-f]{32}' <<<"$(f webhook_id)"
check "the body is {type, timestamp, data} with every field the spec names" python3 - "$RLOG" "$P1" <<'PYEOF'
import datetime, json, sys
line = [l for l in map(json.loads, open(sys.argv[1]))
        if l["path"] == "/ok/bi-malut" and (l["body"] or {}).get("data", {}).get("package_id") == sys.argv[2]][0]
b = line["body"]
assert sorted(b) == ["data", "timestamp", "type"], b
t = datetime.datetime.fromisoformat(b["timestamp"].replace("Z", "+00:00"))
assert t.utcoffset() == datetime.timedelta(0), b
want = {"package_id", "dataset", "filename", "size", "classification", "producer", "created_at", "access", "recipient"}
assert want <= set(b["data"]), sorted(b["data"])
assert not {"content", "payload", "body"} & set(b["data"]), sorted(b["data"])
assert isinstance(b["data"]["size"], int), b
PYEOF
check "no receiver saw any of the package's content" test -z "$(grep -rlF "$MARKER" "$H")"
check "not even base64-encoded" test -z "$(grep -rlF "$(base64 -w0 "$WORK/gizi.csv" | cut -c1-24)" "$H")"
eventually "the hook on an IP address (its certificate names 127.0.0.1) gets it too" 20 \
    seen 1 "$RLOG" path=/ok/bi-ip body.data.package_id="$P1" signature_ok=true

# Who is told is who `serambi ls` shows the package to (but its producer).
declare -A PROFILE_OF=([$ADMIN_ID]=$ADMIN [walidata]=$C [walidata-dua]=$C2 [bi-malut]=$BI [telkom]=$TK [inspektorat]=$A)
lists() { # PACKAGE: who but the producer sees it in `serambi ls`, sorted, one line
    local who
    for who in "${!PROFILE_OF[@]}"; do
        if "$SERAMBI" ls --all --json --profile "${PROFILE_OF[$who]}" 2>/dev/null | grep -qF "$1"; then echo "$who"; fi
    done | sort | tr '\n' ' ' | sed 's/ $//'
}
told() { # PATH PACKAGE: the recipients the hook at PATH heard of PACKAGE for, sorted, one line
    logq "$RLOG" values body.data.recipient path="$1" body.type=package.arrived body.data.package_id="$2" |
        sort | tr '\n' ' ' | sed 's/ $//'
}
subset() { local w; for w in $1; do [[ " $2 " == *" $w "* ]] || return 1; done; }
SEES_P1=$(lists "$P1")
contains "serambi ls shows the terbatas package to the partner" bi-malut "$SEES_P1"
lacks "not to the partner without an agreement" telkom "$SEES_P1"
same "the producer is told of its own push by no hook" 0 "$(logq "$RLOG" count body.data.package_id="$P1" body.data.recipient=dinkes-malut)"

# The everyone hook: one delivery per recipient. A biasa package is seen by every principal,
# the admin too, so each is a recipient (whether or not an everyone hook hears only what its owner
# could see itself).
printf '%s-umum\n' "$MARKER" >"$WORK/umum.csv"
U1=$(push dinkes-malut/umum "$WORK/umum.csv")
EXPECTED=$(lists "$U1")
contains "serambi ls shows a biasa package to the partner without an agreement" telkom "$EXPECTED"
contains "and to the admin" "$ADMIN_ID" "$EXPECTED"
eventually "the everyone hook hears of it once for each of them ($EXPECTED)" 20 \
    seen "$(wc -w <<<"$EXPECTED")" "$RLOG" path=/ok/everyone body.type=package.arrived body.data.package_id="$U1"
same "its recipients are exactly those" "$EXPECTED" "$(told /ok/everyone "$U1")"
same "each its own delivery (its own webhook-id)" "$(wc -w <<<"$EXPECTED")" \
    "$(logq "$RLOG" distinct webhook_id path=/ok/everyone body.data.package_id="$U1")"
same "each signed" "$(wc -w <<<"$EXPECTED")" "$(logq "$RLOG" count path=/ok/everyone body.data.package_id="$U1" signature_ok=true)"
same "the producer is not among them" 0 "$(logq "$RLOG" count body.data.package_id="$U1" body.data.recipient=dinkes-malut)"
# Events go in log order: with the later push heard, the earlier one was dealt with.
check "of the terbatas package, the everyone hook told only principals who list it ($(told /ok/everyone "$P1"))" \
    subset "$(told /ok/everyone "$P1")" "$SEES_P1"
same "at most once each" "$(told /ok/everyone "$P1" | wc -w)" "$(logq "$RLOG" distinct body.data.recipient path=/ok/everyone body.data.package_id="$P1")"

# ---- Nothing about data the recipient may not see. Events go in log order: once the later,
# visible push has arrived, the earlier one has been dealt with.
add_hook late "$BI" "$R/ok/bi-late" --event package.arrived
printf '%s-internal\n' "$MARKER" >"$WORK/internal.csv"
INV=$(push dinkes-malut/internal "$WORK/internal.csv")
printf '%s-gizi-2\n' "$MARKER" >"$WORK/gizi2.csv"
P2=$(push dinkes-malut/gizi "$WORK/gizi2.csv")
eventually "the visible push after it reaches the partner's hook" 20 \
    seen 1 "$RLOG" path=/ok/bi-malut body.data.package_id="$P2"
eventually "the custodian, who may see the other package, is told of it (its own hook)" 20 \
    seen 1 "$RLOG" path=/ok/walidata body.data.package_id="$INV" body.data.recipient=walidata
same "but no delivery names it to the partner, anywhere" 0 "$(logq "$RLOG" count body.data.package_id="$INV" body.data.recipient=bi-malut)"
same "no hook of the partner heard of it at all" 0 "$(logq "$RLOG" count body.data.package_id="$INV" \
    path!=/ok/everyone path!=/ok/walidata path!=/ok/walidata-dua)"
check "the everyone hook told only those who list it ($(told /ok/everyone "$INV"))" \
    subset "$(told /ok/everyone "$INV")" "$(lists "$INV")"
deliveries=$("$SERAMBI" hook deliveries "${HOOK[main]}" --limit 500 --json --profile "$BI")
same "the receiver got three package.arrived at the partner's hook (gizi, umum, gizi)" 3 \
    "$(logq "$RLOG" distinct webhook_id path=/ok/bi-malut body.type=package.arrived)"
same "and hook deliveries holds those three, none for the hidden package" 3 \
    "$(echo "$deliveries" | python3 -c 'import json,sys; print(sum(d["event"]=="package.arrived" for d in json.load(sys.stdin)))')"
lacks "hook deliveries never names the hidden package" "$INV" "$deliveries$("$SERAMBI" hook deliveries "${HOOK[main]}" --profile "$BI" 2>&1)"
same "a hook hears of events from its creation on: the later push" 1 "$(logq "$RLOG" count path=/ok/bi-late body.data.package_id="$P2")"
same "but not the pushes before it" 0 "$(logq "$RLOG" count path=/ok/bi-late body.data.package_id="$P1")"

# ---- Retries: the same webhook-id and the same bytes each time; no redirect followed
eventually "a receiver that fails twice gets a third attempt" 20 \
    seen 3 "$RLOG" path=/fail-twice/bi-malut body.data.package_id="$P1"
TWICE=(path=/fail-twice/bi-malut body.data.package_id="$P1")
same "answered 500, 500, 204" "500 500 204" "$(one_line status "${TWICE[@]}")"
same "all three with one webhook-id" 1 "$(logq "$RLOG" distinct webhook_id "${TWICE[@]}")"
same "and the same body bytes" 1 "$(logq "$RLOG" distinct body_sha256 "${TWICE[@]}")"
same "each attempt signed afresh, and each verifies" 3 "$(logq "$RLOG" count "${TWICE[@]}" signature_ok=true)"
# A retry waits retry_seconds (1 s) at least, so it falls in a later second, and is stamped with it.
check "each retry waits retry_seconds and carries its own webhook-timestamp" python3 - "$RLOG" "$P1" <<'PYEOF'
import json, sys
a = [l for l in map(json.loads, open(sys.argv[1]))
     if l["path"] == "/fail-twice/bi-malut" and (l["body"] or {}).get("data", {}).get("package_id") == sys.argv[2]]
assert len(a) == 3, len(a)
for before, after in zip(a, a[1:]):
    assert int(after["webhook_timestamp"]) >= int(before["webhook_timestamp"]) + 1, (before, after)
PYEOF
TWICE_ID=$(logq "$RLOG" first webhook_id "${TWICE[@]}")
eventually "hook deliveries then shows it delivered" 20 delivery_is "${HOOK[twice]}" "$BI" "$TWICE_ID" delivered
same "after 3 attempts" 3 "$(delivery "${HOOK[twice]}" "$BI" "$TWICE_ID" attempts)"
same "the last answered 204" 204 "$(delivery "${HOOK[twice]}" "$BI" "$TWICE_ID" last_status)"
check "with its delivered_at" test -n "$(delivery "${HOOK[twice]}" "$BI" "$TWICE_ID" delivered_at)"
same "and the event's name" package.arrived "$(delivery "${HOOK[twice]}" "$BI" "$TWICE_ID" event)"

eventually "a receiver that always fails is tried" 20 seen 1 "$RLOG" path=/fail-always/bi-malut body.data.package_id="$P1"
ALWAYS_ID=$(logq "$RLOG" first webhook_id path=/fail-always/bi-malut body.data.package_id="$P1")
eventually "until the delivery is failed" 30 delivery_is "${HOOK[always]}" "$BI" "$ALWAYS_ID" failed
same "after len(retry_seconds)+1 = 4 attempts" 4 "$(delivery "${HOOK[always]}" "$BI" "$ALWAYS_ID" attempts)"
same "the receiver saw the 4" "503 503 503 503" "$(one_line status webhook_id="$ALWAYS_ID")"
same "with the same bytes each time" 1 "$(logq "$RLOG" distinct body_sha256 webhook_id="$ALWAYS_ID")"
same "its last_status is 503" 503 "$(delivery "${HOOK[always]}" "$BI" "$ALWAYS_ID" last_status)"
same "and nothing more is planned" "" "$(delivery "${HOOK[always]}" "$BI" "$ALWAYS_ID" next_attempt_at)"

eventually "a redirecting receiver is tried" 20 seen 1 "$RLOG" path=/redirect/bi-malut body.data.package_id="$P1"
REDIRECT_ID=$(logq "$RLOG" first webhook_id path=/redirect/bi-malut body.data.package_id="$P1")
eventually "a 302 is not success: the delivery ends failed" 30 delivery_is "${HOOK[redirect]}" "$BI" "$REDIRECT_ID" failed
same "with last_status 302" 302 "$(delivery "${HOOK[redirect]}" "$BI" "$REDIRECT_ID" last_status)"
same "after 4 attempts" 4 "$(delivery "${HOOK[redirect]}" "$BI" "$REDIRECT_ID" attempts)"
same "and the Location was never followed" 0 "$(logq "$RLOG" count path^=/ok/followed)"

# TLS: a certificate from a CA neither the system nor ca_file trusts; one for another name.
for bad in untrusted badname; do
    eventually "$bad: the delivery ends failed" 30 oldest_is "${HOOK[$bad]}" "$BI" failed
    same "$bad: after 4 attempts" 4 "$(oldest "${HOOK[$bad]}" "$BI" attempts)"
    same "$bad: with no HTTP status" 0 "$(oldest "${HOOK[$bad]}" "$BI" last_status)"
    check "$bad: and last_error says why" test -n "$(oldest "${HOOK[$bad]}" "$BI" last_error)"
    same "$bad: no request reached that receiver" 0 "$(logq "$H/$bad.jsonl" count)"
done

# ---- The access log: every delivery that ended
audit_deliveries() { # principal decision resource, one line each
    "$SERAMBI" audit search --action hook.delivery --json --profile "$A" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(json.loads(line)["entry"])
    print(e.get("principal", "-"), e.get("decision"), e.get("resource"))'
}
audit_has() { audit_deliveries | grep -qxF "$1"; }
eventually "the access log records the delivered one (hook.delivery, allow)" 10 \
    audit_has "bi-malut allow hooks/${HOOK[twice]}/deliveries/$TWICE_ID"
eventually "and the one given up (error)" 10 audit_has "bi-malut error hooks/${HOOK[always]}/deliveries/$ALWAYS_ID"
contains "the redirected one too" "bi-malut error hooks/${HOOK[redirect]}/deliveries/$REDIRECT_ID" "$(audit_deliveries)"
contains "and the everyone hook's, under its owner" "$ADMIN_ID allow hooks/${HOOK[everyone]}/deliveries/" "$(audit_deliveries)"
same "an auditor finds them through the API as well" 1 \
    "$(api "$A" "$URL/v1/audit/entries?action=hook.delivery&decision=error" | grep -c "hooks/${HOOK[always]}/deliveries/$ALWAYS_ID")"

# ---- release.requested, release.approved, release.refused, approval.expiring
printf '%s-anggaran\n' "$MARKER" >"$WORK/anggaran.csv"
R1=$(push dinkes-malut/anggaran "$WORK/anggaran.csv")
eventually "a rahasia package is announced to the partner too" 20 \
    seen 1 "$RLOG" path=/ok/bi-malut body.type=package.arrived body.data.package_id="$R1"
same "as one to ask for (access request)" request \
    "$(logq "$RLOG" first body.data.access path=/ok/bi-malut body.data.package_id="$R1")"
same "and, like the listing before release, without its digest" "" \
    "$(logq "$RLOG" first body.data.sha256 path=/ok/bi-malut body.data.package_id="$R1")"
REQ=$("$SERAMBI" request "$R1" --purpose "kajian harga pangan" --profile "$BI" | json_field id)
eventually "the partner's request reaches the custodian's hook (release.requested)" 20 \
    seen 1 "$RLOG" path=/ok/walidata body.type=release.requested body.data.request_id="$REQ"
pick path=/ok/walidata body.data.request_id="$REQ"
same "signed" true "$(f signature_ok)"
same "naming the package" "$R1" "$(f body.data.package_id)"
same "the partner" bi-malut "$(f body.data.partner)"
same "the purpose" "kajian harga pangan" "$(f body.data.purpose)"
same "the classification" rahasia "$(f body.data.classification)"
same "the dataset" dinkes-malut/anggaran "$(f body.data.dataset)"
same "to the custodian" walidata "$(f body.data.recipient)"
eventually "the other custodian is told too" 20 \
    seen 1 "$RLOG" path=/ok/walidata-dua body.type=release.requested body.data.request_id="$REQ" body.data.recipient=walidata-dua
same "the producer is not" 0 "$(logq "$RLOG" count body.type=release.requested body.data.request_id="$REQ" body.data.recipient=dinkes-malut)"
same "the producer's own hook heard nothing: not of requests, not of its own pushes" 0 \
    "$(logq "$RLOG" count path=/ok/dinkes-malut)"
check "the everyone hook told only custodians of it ($(logq "$RLOG" values body.data.recipient path=/ok/everyone body.data.request_id="$REQ" | sort | tr '\n' ' ' | sed 's/ $//'))" \
    subset "$(logq "$RLOG" values body.data.recipient path=/ok/everyone body.data.request_id="$REQ")" "walidata walidata-dua"

APV=$("$SERAMBI" approve "$R1" --for bi-malut --profile "$C" | json_field id)
eventually "the approval reaches the partner (release.approved)" 20 \
    seen 1 "$RLOG" path=/ok/bi-malut body.type=release.approved body.data.approval_id="$APV"
pick path=/ok/bi-malut body.data.approval_id="$APV" body.type=release.approved
same "signed" true "$(f signature_ok)"
same "for the package" "$R1" "$(f body.data.package_id)"
same "by the custodian" walidata "$(f body.data.custodian)"
same "to the partner" bi-malut "$(f body.data.partner)"
same "which is the recipient" bi-malut "$(f body.data.recipient)"
same "saying the package is now released" true "$(f body.data.released)"
check "with the approval's end" test -n "$(f body.data.expires_at)"

printf '%s-anggaran-2\n' "$MARKER" >"$WORK/anggaran2.csv"
R2=$(push dinkes-malut/anggaran "$WORK/anggaran2.csv")
REQ2=$("$SERAMBI" request "$R2" --purpose "iklan" --profile "$BI" | json_field id)
check "the custodian refuses the second request" "$SERAMBI" requests refuse "$REQ2" --reason "tujuan di luar MOU" --profile "$C"
eventually "the refusal reaches the partner (release.refused)" 20 \
    seen 1 "$RLOG" path=/ok/bi-malut body.type=release.refused body.data.request_id="$REQ2"
pick path=/ok/bi-malut body.type=release.refused body.data.request_id="$REQ2"
same "signed" true "$(f signature_ok)"
same "with the reason" "tujuan di luar MOU" "$(f body.data.reason)"
same "for the package" "$R2" "$(f body.data.package_id)"
same "to the partner" bi-malut "$(f body.data.recipient)"

printf '%s-anggaran-3\n' "$MARKER" >"$WORK/anggaran3.csv"
R3=$(push dinkes-malut/anggaran "$WORK/anggaran3.csv")
APV3=$("$SERAMBI" approve "$R3" --for bi-malut --expires "$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)" \
    --profile "$C2" | json_field id)
eventually "an approval ending within 24 hours is announced (approval.expiring)" 20 \
    seen 1 "$RLOG" path=/ok/bi-malut body.type=approval.expiring body.data.approval_id="$APV3"
same "for its package" "$R3" "$(logq "$RLOG" first body.data.package_id path=/ok/bi-malut body.type=approval.expiring body.data.approval_id="$APV3")"
same "to the partner" bi-malut "$(logq "$RLOG" first body.data.recipient path=/ok/bi-malut body.type=approval.expiring body.data.approval_id="$APV3")"

# ---- certificate.expiring: every principal added since principal_days = 20, once per certificate
for who in dinkes-malut walidata walidata-dua bi-malut telkom inspektorat; do
    eventually "certificate.expiring for $who (everyone hook)" 20 \
        seen 1 "$RLOG" path=/ok/everyone body.type=certificate.expiring body.data.principal="$who" body.data.recipient="$who"
done
OLD_SERIAL=$("$SERAMBI" whoami --json --profile "$BI" | json_field certificate_serial)
same "it names the certificate's serial" 1 \
    "$(logq "$RLOG" count path=/ok/everyone body.type=certificate.expiring body.data.serial~="$OLD_SERIAL")"
check "and its end, 20 days away" python3 - "$RLOG" <<'PYEOF'
import datetime, json, sys
for l in map(json.loads, open(sys.argv[1])):
    if l["path"] == "/ok/everyone" and l["body"]["type"] == "certificate.expiring" and l["body"]["data"]["principal"] == "bi-malut":
        end = datetime.datetime.fromisoformat(l["body"]["data"]["not_after"].replace("Z", "+00:00"))
        left = end - datetime.datetime.now(datetime.timezone.utc)
        assert datetime.timedelta(days=19) < left < datetime.timedelta(days=21), left
        break
else:
    raise SystemExit("none")
PYEOF
CERT_TIME=$SECONDS
renewed=$("$SERAMBI" renew --profile "$BI" 2>&1)
NEW_SERIAL=$(sed -n 's/.*certificate \([0-9A-Fa-f:]*\) valid until.*/\1/p' <<<"$renewed")
check "the partner renews its certificate (serial $NEW_SERIAL)" test -n "$NEW_SERIAL"
eventually "its own hook hears that the new certificate ends within 30 days" 20 \
    seen 1 "$RLOG" path=/ok/bi-malut body.type=certificate.expiring body.data.serial~="$NEW_SERIAL"
same "naming the principal" bi-malut \
    "$(logq "$RLOG" first body.data.principal path=/ok/bi-malut body.type=certificate.expiring body.data.serial~="$NEW_SERIAL")"

# ---- Hostile and clumsy registrations: refused, clearly, and nothing registered
BEFORE_BI=$(hook_ids "$BI")
BEFORE_ALL=$(hook_ids "$ADMIN")
contains "(the partner's hooks are listed before)" "${HOOK[main]}" "$BEFORE_BI"
contains "(and every hook, for the admin)" "${HOOK[everyone]} " "$BEFORE_ALL "
json_str() { # TEXT: as a JSON string (what these URLs hold: quotes, backslashes, CR, LF, TAB, ^A)
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\r'/\\r}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    s=${s//$'\001'/\\u0001}
    printf '"%s"' "$s"
}
# try_hook PROFILE URL EVENTS-JSON [MORE-MEMBERS]: POST /v1/hooks; the status; the body in last_body
try_hook() {
    status "$1" -X POST -H 'content-type: application/json' \
        --data-binary "{\"url\":$(json_str "$2"),\"events\":$3${4:+,$4}}" "$URL/v1/hooks"
}
detail() { cat "$WORK/last_body"; }
# bad_hook DESCRIPTION STATUS WORD PROFILE URL EVENTS-JSON [MORE-MEMBERS]: refused with STATUS, a
# problem whose detail says why (and holds WORD, if given)
bad_hook() {
    local what=$1 code=$2 word=$3
    shift 3
    same "$what ($code)" "$code" "$(try_hook "$@")"
    if [ -n "$word" ]; then
        contains "$what: the answer says $word" "$word" "$(detail)"
    else
        check "$what: the answer says why" grep -Eq '"detail" *: *"[^"]' "$WORK/last_body"
    fi
}
PA='["package.arrived"]'
bad_hook "an http:// URL" 400 https "$BI" "http://localhost:$PORT_main/ok/x" "$PA"
bad_hook "a URL with user info" 400 "" "$BI" "https://user@localhost:$PORT_main/ok/x" "$PA"
bad_hook "a URL with a user and password" 400 "" "$BI" "https://user:rahasia@localhost:$PORT_main/ok/x" "$PA"
bad_hook "a URL with a fragment" 400 "" "$BI" "https://localhost:$PORT_main/ok/x#bagian" "$PA"
bad_hook "a URL without a host" 400 "" "$BI" "https:///ok/x" "$PA"
bad_hook "a port out of range" 400 "" "$BI" "https://localhost:99999/ok/x" "$PA"
bad_hook "a port that is not a number" 400 "" "$BI" "https://localhost:https/ok/x" "$PA"
bad_hook "a space in the URL" 400 "" "$BI" "https://localhost:$PORT_main/ok/a b" "$PA"
bad_hook "a control character in the URL" 400 "" "$BI" "$(printf 'https://localhost:%s/ok/a\001b' "$PORT_main")" "$PA"
bad_hook "CR LF in the URL (header injection)" 400 "" "$BI" "$(printf 'https://localhost:%s/ok/a\r\nX-Evil: 1' "$PORT_main")" "$PA"
bad_hook "a URL over 2048 characters" 400 "" "$BI" "https://localhost:$PORT_main/ok/$(head -c 2100 /dev/zero | tr '\0' a)" "$PA"
bad_hook "an unknown event" 400 "" "$BI" "$R/ok/x" '["package.exploded"]'
names_event() { [[ "$1" == *package.exploded* || "$1" == *package.arrived* ]]; }
check "which names the event, or the events there are" names_event "$(detail)"
bad_hook "no event" 400 "" "$BI" "$R/ok/x" '[]'
bad_hook "an event twice" 400 "" "$BI" "$R/ok/x" '["package.arrived", "package.arrived"]'
bad_hook "events that are not a list" 400 "" "$BI" "$R/ok/x" '"package.arrived"'
bad_hook "a host that does not resolve" 400 "" "$BI" "https://tidak-ada.invalid/ok/x" "$PA"
bad_hook "the cloud metadata address" 400 169.254.169.254 "$BI" "https://169.254.169.254/latest/meta-data/" "$PA"
contains "which names the setting that would allow it" "allowed_networks" "$(detail)"
bad_hook "a private (RFC 1918) address" 400 10.1.2.3 "$BI" "https://10.1.2.3:$PORT_main/ok/x" "$PA"
contains "which names the setting that would allow it" "allowed_networks" "$(detail)"
bad_hook "192.168/16" 400 "" "$BI" "https://192.168.1.1/ok/x" "$PA"
bad_hook "172.16/12" 400 "" "$BI" "https://172.16.0.1/ok/x" "$PA"
bad_hook "CGNAT 100.64/10" 400 "" "$BI" "https://100.64.0.1/ok/x" "$PA"
bad_hook "the unspecified address" 400 "" "$BI" "https://0.0.0.0:$PORT_main/ok/x" "$PA"
bad_hook "multicast" 400 "" "$BI" "https://224.0.0.1/ok/x" "$PA"
bad_hook "IPv6 link-local" 400 "" "$BI" "https://[fe80::1]/ok/x" "$PA"
bad_hook "IPv6 unique local (fc00::/7)" 400 "" "$BI" "https://[fd00::1]/ok/x" "$PA"
bad_hook "the metadata address mapped into IPv6" 400 "" "$BI" "https://[::ffff:169.254.169.254]/ok/x" "$PA"
bad_hook "the metadata address written as one decimal number" 400 "" "$BI" "https://2852039166/ok/x" "$PA"
bad_hook "the metadata address written in hex" 400 "" "$BI" "https://0xA9FEA9FE/ok/x" "$PA"
bad_hook "a partner asking to hear everyone's events" 403 "" "$BI" "$R/ok/x" "$PA" '"everyone": true'
bad_hook "everyone that is not a boolean" 400 "" "$BI" "$R/ok/x" "$PA" '"everyone": "yes"'
same "a body that is not JSON (400)" 400 "$(status "$BI" -X POST -H 'content-type: application/json' --data-binary '{"url":' "$URL/v1/hooks")"
same "a body without url (400)" 400 "$(status "$BI" -X POST -H 'content-type: application/json' --data-binary '{"events":["package.arrived"]}' "$URL/v1/hooks")"
refuse_saying "the CLI refuses an http:// URL, saying https" https \
    "$SERAMBI" hook add "http://localhost:$PORT_main/ok/x" --event package.arrived --profile "$BI"
refuse_saying "the CLI refuses the metadata address, naming [webhooks] allowed_networks" allowed_networks \
    "$SERAMBI" hook add "https://169.254.169.254/latest/meta-data/" --event package.arrived --profile "$BI"
out=$("$SERAMBI" hook add "$R/ok/x" --event package.exploded --profile "$BI" 2>&1)
check "the CLI refuses an unknown event" test $? -ne 0
check "naming it, or the events there are" names_event "$out"
refuse "the CLI refuses a hook with no event" "$SERAMBI" hook add "$R/ok/x" --profile "$BI"
refuse "the CLI refuses --everyone from a partner" "$SERAMBI" hook add "$R/ok/x" --event package.arrived --everyone --profile "$BI"
refuse "nor may a custodian hear everyone's events" "$SERAMBI" hook add "$R/ok/x" --event package.arrived --everyone --profile "$C"
same "none of that registered anything (the partner's hooks)" "$BEFORE_BI" "$(hook_ids "$BI")"
same "none of that registered anything (every hook)" "$BEFORE_ALL" "$(hook_ids "$ADMIN")"

# ---- Other principals' hooks are not there for them
same "another principal cannot remove the partner's hook (404)" 404 \
    "$(status "$TK" -X POST -H 'content-type: application/json' -d '{}' "$URL/v1/hooks/${HOOK[main]}/remove")"
same "exactly as for a hook that does not exist" 404 \
    "$(status "$TK" -X POST -H 'content-type: application/json' -d '{}' "$URL/v1/hooks/hook-0000000000000000/remove")"
same "a custodian cannot either" 404 \
    "$(status "$C" -X POST -H 'content-type: application/json' -d '{}' "$URL/v1/hooks/${HOOK[main]}/remove")"
refuse "the CLI's hook remove fails for another principal's hook" "$SERAMBI" hook remove "${HOOK[main]}" --profile "$TK"
same "nor read its deliveries (404)" 404 "$(status "$TK" "$URL/v1/hooks/${HOOK[main]}/deliveries")"
refuse "the CLI's hook deliveries fails for another principal's hook" "$SERAMBI" hook deliveries "${HOOK[main]}" --profile "$TK"
check "an id that is a path is refused (400 or 404)" grep -qx '40[04]' <<<"$(status "$BI" "$URL/v1/hooks/..%2F..%2Fv1%2Fwhoami/deliveries")"
contains "the partner still has its hook" "${HOOK[main]}" "$(hook_ids "$BI")"
same "another principal, with no hooks, lists none" "" "$(hook_ids "$TK")"
lacks "another principal's hook list does not show the partner's hooks" "${HOOK[main]}" "$("$SERAMBI" hook list --json --profile "$TK" 2>&1)"
lacks "nor the custodian's (own hooks only)" "${HOOK[main]}" "$(hook_ids "$C")"
same "the custodian sees its own" "${HOOK[custodian]}" "$(hook_ids "$C")"
all=$(hook_ids "$ADMIN")
contains "an admin sees the partner's hooks" "${HOOK[main]}" "$all"
contains "and the custodian's" "${HOOK[custodian]}" "$all"
same "an admin may not read the partner's hook's deliveries (who was told what is the owner's)" 404 "$(status "$ADMIN" "$URL/v1/hooks/${HOOK[main]}/deliveries")"
same "deliveries ?limit=0 is refused (400)" 400 "$(status "$BI" "$URL/v1/hooks/${HOOK[main]}/deliveries?limit=0")"
same "?limit=501 too (400)" 400 "$(status "$BI" "$URL/v1/hooks/${HOOK[main]}/deliveries?limit=501")"
same "?limit=lima too (400)" 400 "$(status "$BI" "$URL/v1/hooks/${HOOK[main]}/deliveries?limit=lima")"
same "--limit 1 gives one" 1 "$("$SERAMBI" hook deliveries "${HOOK[main]}" --limit 1 --json --profile "$BI" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
"$SERAMBI" hook deliveries "${HOOK[main]}" --limit 500 --json --profile "$BI" >"$WORK/deliveries.json"
check "deliveries are newest first, each with the fields the spec names" python3 - "$WORK/deliveries.json" <<'PYEOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
assert len(d) >= 5, len(d)
for x in d:
    assert re.fullmatch(r"msg_[0-9a-f]{32}", x["id"]), x
    assert x["state"] in ("pending", "delivered", "failed", "cancelled"), x
    assert x["recipient"] == "bi-malut" and isinstance(x["attempts"], int) and isinstance(x["last_status"], int), x
    for k in ("event", "last_error", "created_at", "next_attempt_at", "delivered_at"):
        assert k in x, (k, x)
times = [x["created_at"] for x in d]
assert times == sorted(times, reverse=True), times
PYEOF

# ---- At most 10 hooks each; an admin may remove anyone's
codes=""
TK_HOOKS=()
for i in $(seq 1 10); do
    codes+="$(try_hook "$TK" "$R/ok/telkom-$i" '["approval.expiring"]') "
    printf '/ok/telkom-%s %s\n' "$i" "$(json_field secret <"$WORK/last_body" 2>/dev/null)" >>"$SECRETS"
    TK_HOOKS+=("$(json_field id <"$WORK/last_body" 2>/dev/null)")
done
TK_HOOK=${TK_HOOKS[0]}
same "a principal registers ten hooks" "201 201 201 201 201 201 201 201 201 201" "${codes% }"
same "the eleventh is refused (409)" 409 "$(try_hook "$TK" "$R/ok/telkom-11" '["approval.expiring"]')"
check "an admin removes another principal's hook" "$SERAMBI" hook remove "$TK_HOOK" --json --profile "$ADMIN"
lacks "it is gone from its owner's list" "$TK_HOOK" "$(hook_ids "$TK")"
same "the owner removes one with an empty POST (no body)" 200 "$(status "$TK" -X POST "$URL/v1/hooks/${TK_HOOKS[1]}/remove")"
check "whose answer carries removed_at" test -n "$(json_field removed_at <"$WORK/last_body" 2>/dev/null)"

# ---- Removed hooks hear nothing more
removed=$("$SERAMBI" hook remove "${HOOK[gone]}" --json --profile "$BI")
check "the owner removes a hook; the answer has removed_at" test -n "$(echo "$removed" | json_field removed_at)"
for h in always redirect untrusted badname; do
    check "the owner removes its $h hook" "$SERAMBI" hook remove "${HOOK[$h]}" --json --profile "$BI"
done
lacks "a removed hook is not listed as live" "${HOOK[gone]}" "$(hook_ids "$BI")"
printf '%s-gizi-4\n' "$MARKER" >"$WORK/gizi4.csv"
P4=$(push dinkes-malut/gizi "$WORK/gizi4.csv")
eventually "a push after the removals reaches the hooks still there" 20 \
    seen 1 "$RLOG" path=/ok/bi-malut body.data.package_id="$P4"
eventually "the later hook included" 20 seen 1 "$RLOG" path=/ok/bi-late body.data.package_id="$P4"
same "but not the removed hook" 0 "$(logq "$RLOG" count path=/ok/bi-gone body.data.package_id="$P4")"
same "nor the other removed ones" "0 0" "$(logq "$RLOG" count body.data.package_id="$P4" path^=/fail-always/) $(logq "$RLOG" count body.data.package_id="$P4" path^=/redirect/)"
same "the removed hook had heard the earlier pushes" 1 "$(logq "$RLOG" count path=/ok/bi-gone body.data.package_id="$P1")"

# ---- Once means once: a few scans later, nothing was said twice
while [ $((SECONDS - CERT_TIME)) -lt 4 ]; do sleep 0.2; done
for who in dinkes-malut walidata walidata-dua telkom inspektorat; do
    same "certificate.expiring for $who: still once" 1 \
        "$(logq "$RLOG" count path=/ok/everyone body.type=certificate.expiring body.data.principal="$who")"
done
same "bi-malut: once for each of its two certificates" "1 1" \
    "$(logq "$RLOG" count path=/ok/everyone body.type=certificate.expiring body.data.serial~="$OLD_SERIAL") $(logq "$RLOG" count path=/ok/everyone body.type=certificate.expiring body.data.serial~="$NEW_SERIAL")"
same "its own hook: once for the new one" 1 \
    "$(logq "$RLOG" count path=/ok/bi-malut body.type=certificate.expiring body.data.serial~="$NEW_SERIAL")"
same "nothing for the admin, whose certificate lives 365 days" 0 \
    "$(logq "$RLOG" count body.type=certificate.expiring body.data.principal="$ADMIN_ID")"
same "approval.expiring: still once" 1 "$(logq "$RLOG" count path=/ok/bi-malut body.type=approval.expiring body.data.approval_id="$APV3")"
same "and none for the approval that stands 7 days" 0 "$(logq "$RLOG" count body.type=approval.expiring body.data.approval_id="$APV")"
same "the delivered retry was not sent again" 3 "$(logq "$RLOG" count "${TWICE[@]}")"
same "the failed one was not tried a fifth time" 4 "$(logq "$RLOG" count webhook_id="$ALWAYS_ID")"
same "the everyone hook still told each recipient of the biasa package once" "$(wc -w <<<"$EXPECTED")" \
    "$(logq "$RLOG" count path=/ok/everyone body.type=package.arrived body.data.package_id="$U1")"
check "and of the terbatas package only those who list it" subset "$(told /ok/everyone "$P1")" "$SEES_P1"
same "each custodian heard of the request once" "1 1" \
    "$(logq "$RLOG" count path=/ok/walidata body.data.request_id="$REQ") $(logq "$RLOG" count path=/ok/walidata-dua body.data.request_id="$REQ")"

# ---- A hook falls silent with the certificate that registered it
eventually "the custodian's hook heard of the last push" 20 seen 1 "$RLOG" path=/ok/walidata body.data.package_id="$P4"
check "an admin revokes the custodian's certificate (key compromise)" \
    "$SERAMBI" principal revoke walidata --reason keyCompromise --profile "$ADMIN"
printf '%s-gizi-5\n' "$MARKER" >"$WORK/gizi5.csv"
P5=$(push dinkes-malut/gizi "$WORK/gizi5.csv")
eventually "the next push still reaches the partner" 20 seen 1 "$RLOG" path=/ok/bi-malut body.data.package_id="$P5"
same "but not the hook of the revoked certificate" 0 "$(logq "$RLOG" count path=/ok/walidata body.data.package_id="$P5")"

# ---- Every request the receiver got: signed with its hook's secret, well formed, no content
same "the receiver knew every hook's secret" 0 "$(logq "$RLOG" count secret_known!=true)"
same "every delivery's signature verified" 0 "$(logq "$RLOG" count signature_ok!=true)"
same "every one a POST" 0 "$(logq "$RLOG" count method!=POST)"
same "every one from serambi-gateway" 0 "$(logq "$RLOG" count user_agent!=serambi-gateway)"
check "every one stamped with the time it was sent, and a msg_ id" python3 - "$RLOG" <<'PYEOF'
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) > 20, len(lines)
for l in lines:
    assert abs(int(l["webhook_timestamp"]) - l["received_at"]) < 60, l
    assert re.fullmatch(r"msg_[0-9a-f]{32}", l["webhook_id"]), l
    assert l["content_type"].startswith("application/json"), l
PYEOF
check "no content of any pushed file ever left the gateway" test -z "$(grep -rlF "$MARKER" "$H")"
"$SERAMBI" audit export -o "$WORK/export.jsonl" --profile "$A" 2>/dev/null
leaked=0
while read -r _ secret; do
    [ ${#secret} -ge 40 ] || continue
    if grep -qF "${secret#whsec_}" "$WORK/export.jsonl" "$WORK/gateway.log"; then leaked=$((leaked + 1)); fi
done <"$SECRETS"
same "no hook's secret is in the access log or the server log" 0 "$leaked"
check "(the access log was exported to look)" test -s "$WORK/export.jsonl"
finish
