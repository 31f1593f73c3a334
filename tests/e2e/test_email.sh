#!/usr/bin/env bash
# Notices by email through the real server: mailto: hooks registered with the CLI and the API, the
# emails a real SMTP relay (smtp_sink.py, aiosmtpd) receives over STARTTLS with AUTH, their headers
# and Indonesian bodies for every event, no file name for rahasia packages and never any content,
# the relay's temporary (4xx after the message) and permanent (5xx to RCPT TO, or after the
# message) refusals, a wrong password (the notice waits for the operator), a relay without
# STARTTLS or with a certificate nobody trusts (nothing sent), TLS from the first byte, hostile and
# out-of-domain addresses refused (at registration and again at sending), email switched off,
# [email] errors that stop the gateway from starting, and the access log's hook.delivery entries
# naming only the address's domain.
# Every address is confirmed first (double opt-in): registering it mails it a code, and the hook
# hears nothing until its owner confirms it with `serambi hook confirm ID CODE`; events before
# that are never sent to it. Wrong codes (five tries), other principals, confirming twice, an
# HTTPS hook, the code's spelling, and the code kept out of the access log, the server log and
# the deliveries are tested too.
source "$(dirname "$0")/lib.sh"
SINK=$(cd "$(dirname "$0")" && pwd)/smtp_sink.py
M=$WORK/mail
mkdir -p "$M"
# smtp_sink.py needs aiosmtpd (Debian's python3-aiosmtpd): the first python3 that has it.
SINK_PY=
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import aiosmtpd.controller' 2>/dev/null; then SINK_PY=$py; break; fi
done
[ -n "$SINK_PY" ] || { echo "no python3 with aiosmtpd (Debian: apt-get install python3-aiosmtpd)"; exit 1; }
SINK_PIDS=()
WATCH_PID=
stop_sinks() {
    local pid
    for pid in "${SINK_PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    SINK_PIDS=()
}
on_exit() {
    if [ "$FAILED" -gt 0 ]; then
        for f in "$M"/*.err; do [ -s "$f" ] && { echo "--- $(basename "$f") ---"; tail -10 "$f"; }; done
    fi
    [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
    stop_sinks
    cleanup
}
trap on_exit EXIT

init_deployment
# Certificates issued from now on live 20 days, inside certificate.expiring's 30.
set_config principal_days 20

# set_in SECTION KEY VALUE [FILE]: a key of a serambi.toml table, whether or not the table or the
# key is there yet.
set_in() {
    local section=$1 key=$2 value=$3 toml=${4:-$DEP/serambi.toml}
    grep -q "^\[$section\]" "$toml" || printf '\n[%s]\n' "$section" >>"$toml"
    if sed -n "/^\[$section\]/,/^\[/p" "$toml" | grep -q "^$key = "; then
        sed -i "/^\[$section\]/,/^\[/ s|^$key = .*|$key = $value|" "$toml"
    else
        sed -i "/^\[$section\]/a $key = $value" "$toml"
    fi
}
toml_value() { # SECTION.KEY: as Python reads serambi.toml
    python3 -c '
import sys, tomllib
s, k = sys.argv[2].split(".")
print(tomllib.load(open(sys.argv[1], "rb")).get(s, {}).get(k, "(absent)"))' "$DEP/serambi.toml" "$1"
}
same "serambi init writes an [email] table with no relay (email off)" "" "$(toml_value email.relay)"
same "and STARTTLS as the default security" starttls "$(toml_value email.security)"
# Four attempts within 5 s: room enough to put a password right between them.
set_in webhooks retry_seconds '[1, 2, 2]'
set_in webhooks scan_seconds 1
set_in webhooks timeout_seconds 5
set_in email timeout_seconds 5
# An HTTPS hook on loopback may be registered (it is never sent anything: nobody listens there).
set_in webhooks allowed_networks '["127.0.0.0/8"]'

# ---- A private CA for the relay, a rogue CA nobody trusts, and their certificates
make_test_ca "$M" ca
make_test_ca "$M" rogue
issue_server_cert "$M" ca relay "IP:127.0.0.1"
issue_server_cert "$M" rogue untrusted "IP:127.0.0.1"
issue_server_cert "$M" ca badname "DNS:wrong.example"
check "the relay's certificate verifies against the private CA" openssl verify -CAfile "$M/ca.crt" "$M/relay.crt"
refuse "the rogue relay's does not" openssl verify -CAfile "$M/ca.crt" "$M/untrusted.crt"

RELAY_USER=serambi-relay
RELAY_PASSWORD=sandi-$(python3 -c 'import secrets; print(secrets.token_hex(12))')
WRONG_PASSWORD=salah-$(python3 -c 'import secrets; print(secrets.token_hex(12))')
printf '%s\n' "$RELAY_PASSWORD" >"$M/relay-password"
chmod 600 "$M/relay-password"

# start_sink NAME SINK-ARGS...: a smtp_sink.py on a free port; PORT_<NAME> is its port, $M/NAME/
# what it received, $M/NAME.log the lines it was sent.
start_sink() {
    local name=$1
    shift
    "$SINK_PY" "$SINK" --port 0 --port-file "$M/$name.port" --out "$M/$name" --log "$M/$name.log" "$@" \
        >"$M/$name.out" 2>"$M/$name.err" &
    SINK_PIDS+=("$!")
    wait_for 15 grep -q listening "$M/$name.out" || { echo "the sink $name did not start:"; cat "$M/$name.err"; exit 1; }
    printf -v "PORT_$name" '%s' "$(cat "$M/$name.port")"
}
AUTH_ARGS=(--user "$RELAY_USER" --password "$RELAY_PASSWORD")
start_sink main --cert "$M/relay.crt" --key "$M/relay.key" "${AUTH_ARGS[@]}"
# A honeypot: no STARTTLS, and it would take a password in the clear.
start_sink plain "${AUTH_ARGS[@]}" --auth-without-tls
start_sink untrusted --cert "$M/untrusted.crt" --key "$M/untrusted.key" "${AUTH_ARGS[@]}"
start_sink badname --cert "$M/badname.crt" --key "$M/badname.key" "${AUTH_ARGS[@]}"
start_sink implicit --cert "$M/relay.crt" --key "$M/relay.key" --implicit-tls "${AUTH_ARGS[@]}"

# ---- Helpers: the sinks' messages, the CLI's hooks and deliveries
cat >"$WORK/mailq.py" <<'PYEOF'
# mailq.py DIR find TO TEXT... | count TO TEXT... | notices TO TEXT... | events TO | code TO HOOK |
#           flat N | has TEXT | total
# find: the number of the first message to TO (case-insensitive) whose decoded body holds every
# TEXT; count: how many; notices: how many, leaving out confirmation emails (X-Serambi-Event
# address.confirm); events: the X-Serambi-Event of each message to TO, in the order received;
# code: the code (the "Kode" row) of the confirmation email to TO for HOOK; flat: message N's
# fields as "name" NUL value NUL ... (its headers by name, body, env.mail_from, env.rcpt_tos,
# env.tls, env.login, and row.LABEL for each "  LABEL : value" line of the body; headers as
# written); has: how many messages hold TEXT in their raw bytes, their decoded body or their
# envelope.
import email, email.policy, glob, json, os, re, sys

def messages(folder):
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json")), key=lambda p: int(os.path.basename(p)[:-5])):
        env = json.load(open(path))
        raw = open(path[:-5] + ".eml", "rb").read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        try:
            body = msg.get_content().replace("\r\n", "\n")
        except Exception as e:
            body = "(undecodable: %s)" % e
        out.append((int(os.path.basename(path)[:-5]), env, raw, msg, body))
    return out

folder, mode = sys.argv[1], sys.argv[2]
all_ = messages(folder) if os.path.isdir(folder) else []
def event(m):
    return str(m[3].get("X-Serambi-Event", "")).strip()

def to(m, address):
    return [r.lower() for r in m[1]["rcpt_tos"]] == [address.lower()]

if mode in ("find", "count", "notices"):
    texts = sys.argv[4:]
    hits = [m for m in all_ if to(m, sys.argv[3]) and all(t in m[4] for t in texts)]
    if mode == "notices":
        hits = [m for m in hits if event(m) != "address.confirm"]
    print((hits[0][0] if hits else "") if mode == "find" else len(hits))
elif mode == "events":
    print(" ".join(event(m) for m in all_ if to(m, sys.argv[3])))
elif mode == "code":
    codes = [re.search(r"(?m)^  Kode +: (\S+)$", m[4]) for m in all_
             if to(m, sys.argv[3]) and event(m) == "address.confirm" and sys.argv[4] in m[4]]
    print(codes[0].group(1) if codes and codes[0] else "")
elif mode == "flat":
    for n, env, raw, msg, body in all_:
        if n != int(sys.argv[3]):
            continue
        fields = {}
        for k, v in msg.raw_items():  # as written, not as the email package would refold them
            fields[k] = fields[k] + "\n" + v if k in fields else v
        fields["body"] = body
        fields["raw"] = raw.decode("utf-8", "replace")
        fields["env.mail_from"] = env["mail_from"]
        fields["env.rcpt_tos"] = " ".join(env["rcpt_tos"])
        fields["env.tls"] = json.dumps(env["tls"])
        fields["env.login"] = env["login"] or ""
        for line in body.splitlines():
            m = re.match(r"^  (\S[^:]*?) *: (.*)$", line)
            if m:
                fields["row." + m.group(1)] = m.group(2)
        for k, v in fields.items():
            sys.stdout.write(k + "\0" + v.replace("\0", "") + "\0")
elif mode == "has":
    t = sys.argv[3]
    print(sum(1 for m in all_ if t.encode() in m[2] or t in m[4] or t in json.dumps(m[1])))
elif mode == "total":
    print(len(all_))
PYEOF
mailq() { python3 "$WORK/mailq.py" "$@"; }
# mail_to SINK TO TEXT...: the number of the first message to TO holding every TEXT ("" if none)
mail_to() { mailq "$M/$1" find "${@:2}"; }
mail_seen() { [ -n "$(mail_to "$@")" ]; }
# pick SINK N: message N's fields in MAIL; f FIELD prints one
declare -A MAIL
pick() {
    local k v
    MAIL=()
    [ -n "$2" ] || return 0
    while IFS= read -r -d '' k && IFS= read -r -d '' v; do MAIL[$k]=$v; done < <(mailq "$M/$1" flat "$2")
}
f() { printf '%s' "${MAIL[$1]-}"; }
# gateway_up: if the gateway died, say so and stop here rather than wait out every timeout.
gateway_up() {
    kill -0 "$GW_PID" 2>/dev/null && return 0
    fail "the gateway is still running (it exited: its log is below)"
    finish
}
# eventually DESCRIPTION SECONDS COMMAND...
eventually() {
    local what=$1 seconds=$2
    shift 2
    gateway_up
    if wait_for "$seconds" "$@"; then pass "$what"; else gateway_up; fail "$what (not within ${seconds}s)"; fi
}
lacks() { # DESCRIPTION TEXT HAYSTACK
    if [[ "$3" == *"$2"* ]]; then fail "$1 ('$2' is there: ${3:0:300})"; else pass "$1"; fi
}
matches() { # DESCRIPTION REGEX TEXT
    if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1 ('${3:0:300}' does not match $2)"; fi
}
declare -A HOOK
# add_hook NAME PROFILE URL HOOK-ADD-ARGS...: registers a hook with the CLI; HOOK[NAME] is its id,
# $M/hook-NAME.json the answer.
add_hook() {
    local name=$1 profile=$2 url=$3 out
    shift 3
    HOOK[$name]=hook-missing
    if ! out=$("$SERAMBI" hook add "$url" "$@" --json --profile "$profile" 2>&1); then
        gateway_up
        fail "hook $name is registered ($out)"
        return 1
    fi
    printf '%s' "$out" >"$M/hook-$name.json"
    HOOK[$name]=$(json_field id <"$M/hook-$name.json" 2>/dev/null || echo hook-missing)
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
delivery_ids() { # HOOK PROFILE: the ids of its deliveries, one line
    "$SERAMBI" hook deliveries "$1" --limit 500 --json --profile "$2" 2>/dev/null |
        python3 -c 'import json,sys; print(" ".join(sorted(d["id"] for d in json.load(sys.stdin))))'
}
# new_delivery HOOK PROFILE IDS-BEFORE: the id of the one delivery the hook has that IDS-BEFORE
# does not ("" while there is none, "several" if more than one)
new_delivery() {
    "$SERAMBI" hook deliveries "$1" --limit 500 --json --profile "$2" 2>/dev/null | python3 -c '
import json, sys
before = set(sys.argv[1].split())
new = [d["id"] for d in json.load(sys.stdin) if d["id"] not in before]
print(new[0] if len(new) == 1 else "several" if new else "")' "$3"
}
has_new_delivery() { [ -n "$(new_delivery "$@")" ]; }
hook_ids() { # PROFILE: the ids of the live hooks `hook list` shows, sorted, one line
    "$SERAMBI" hook list --json --profile "$1" 2>/dev/null | python3 -c '
import json, sys
try:
    print(" ".join(sorted(h["id"] for h in json.load(sys.stdin) if not h.get("removed_at"))))
except Exception as e:
    print("(hook list unreadable: %s)" % e)'
}
delivery_events() { # HOOK PROFILE: the events of its deliveries, sorted, one line
    "$SERAMBI" hook deliveries "$1" --limit 500 --json --profile "$2" 2>/dev/null |
        python3 -c 'import json,sys; print(" ".join(sorted(d["event"] for d in json.load(sys.stdin))))'
}
hook_confirmed() { # HOOK PROFILE: its "confirmed" in `hook list --json` (true, false; "absent")
    "$SERAMBI" hook list --json --profile "$2" 2>/dev/null | python3 -c '
import json, sys
h = [h for h in json.load(sys.stdin) if h["id"] == sys.argv[1]]
print(json.dumps(h[0].get("confirmed", "(no confirmed member)")) if h else "absent")' "$1"
}
# confirm_status PROFILE HOOK CODE: POST /v1/hooks/HOOK/confirm; the status; the body in last_body
confirm_status() {
    status "$1" -X POST -H 'content-type: application/json' --data-binary "{\"code\":$(json_str "$3")}" \
        "$URL/v1/hooks/$2/confirm"
}
declare -A CODE CONF_MSG
CONFIRMED=()
# await_code NAME ADDRESS: waits for the confirmation email to ADDRESS for hook NAME; CODE[NAME] is
# the code it holds (read from the decoded body by the email package).
await_code() {
    eventually "$1: the code reaches $2" 20 mail_seen main "$2" "serambi hook confirm ${HOOK[$1]} "
    CODE[$1]=$(mailq "$M/main" code "$2" "${HOOK[$1]}")
}
conf_msg() { # HOOK PROFILE: the id of the hook's confirmation delivery
    "$SERAMBI" hook deliveries "$1" --limit 500 --json --profile "$2" 2>/dev/null |
        python3 -c 'import json,sys; print(" ".join(d["id"] for d in json.load(sys.stdin) if d["event"] == "address.confirm"))'
}
# confirm_address NAME PROFILE ADDRESS: waits for the code mailed to ADDRESS for hook NAME and
# confirms the hook with it (`serambi hook confirm`) as its owner PROFILE. CODE[NAME] is the code,
# CONF_MSG[NAME] the id of the confirmation's delivery.
confirm_address() {
    local name=$1 profile=$2 id=${HOOK[$1]} out
    await_code "$name" "$3"
    CONF_MSG[$name]=$(conf_msg "$id" "$profile")
    # Given on standard input, as a careful user does to keep it out of the shell's history.
    if out=$("$SERAMBI" hook confirm "$id" --json --profile "$profile" 2>&1 <<<" ${CODE[$name]} ") &&
        [ "$(json_field confirmed <<<"$out" 2>/dev/null)" == True ]; then
        pass "$name: confirmed with the code mailed to it"
        CONFIRMED+=("$id")
    else
        gateway_up
        fail "$name: confirmed with the code mailed to it ('${CODE[$name]}': $out)"
    fi
}
# watch_deliveries HOOK PROFILE FILE: the hook's deliveries every 0.2 s, one JSON object a line,
# until a delivery other than its confirmation has ended (or 30 s): run in the background to see
# what they were on the way.
watch_deliveries() {
    local deadline=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$deadline" ]; do
        "$SERAMBI" hook deliveries "$1" --limit 500 --json --profile "$2" 2>/dev/null | python3 -c '
import json, sys
ended = False
for d in json.load(sys.stdin):
    print(json.dumps(d, sort_keys=True))
    ended = ended or (d["event"] != "address.confirm" and d["state"] != "pending")
sys.exit(3 if ended else 0)' >>"$3" 2>/dev/null
        [ "${PIPESTATUS[1]}" -eq 3 ] && return 0
        sleep 0.2
    done
}
push() { # DATASET FILE: the new package's id
    kill -0 "$GW_PID" 2>/dev/null || return 1
    "$SERAMBI" push "$1" "$2" -q --no-proof --allow-duplicate --profile "$P" | json_field package_id
}
json_str() { # TEXT: as a JSON string
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\r'/\\r}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    s=${s//$'\001'/\\u0001}
    printf '"%s"' "$s"
}
# try_hook PROFILE URL EVENTS-JSON: POST /v1/hooks; the status; the body in last_body
try_hook() {
    status "$1" -X POST -H 'content-type: application/json' \
        --data-binary "{\"url\":$(json_str "$2"),\"events\":$3}" "$URL/v1/hooks"
}
detail() { cat "$WORK/last_body"; }
# bad_hook DESCRIPTION WORD PROFILE URL: refused (400) with a problem that says why (and holds
# WORD, if given)
bad_hook() {
    local what=$1 word=$2
    shift 2
    same "$what (400)" 400 "$(try_hook "$1" "$2" '["package.arrived"]')"
    if [ -n "$word" ]; then
        contains "$what: the answer says $word" "$word" "$(detail)"
    else
        check "$what: the answer says why" grep -Eq '"detail" *: *"[^"]' "$WORK/last_body"
    fi
}
# restart_with KEY=VALUE...: the gateway stopped, [email] changed, the gateway started again
restart_with() {
    stop_gateway
    local kv
    for kv in "$@"; do set_in email "${kv%%=*}" "${kv#*=}"; done
    start_gateway
}
# sink_saw SINK REGEX: how many lines the sink was sent (not its replies) match REGEX
sink_saw() { grep -Ec "^C[0-9]+ > ($2)" "$M/$1.log" 2>/dev/null; }

# ---- Email off (the default): nobody may register an address
start_gateway
add_principal dinkes-malut producer
add_principal walidata custodian
add_principal walidata-dua custodian
add_principal bi-malut partner
add_principal telkom partner
add_principal inspektorat auditor
P=$WORK/dinkes-malut
C=$WORK/walidata
BI=$WORK/bi-malut
TK=$WORK/telkom
A=$WORK/inspektorat
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title Gizi --profile "$C" >/dev/null
"$SERAMBI" dataset create dinkes-malut/anggaran --class rahasia --title Anggaran --profile "$C" >/dev/null
"$SERAMBI" dataset create dinkes-malut/umum --class biasa --title Umum --profile "$C" >/dev/null
"$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/gizi,dinkes-malut/anggaran' \
    --max-class rahasia --purpose kajian --valid-from "$(date -u -d yesterday +%F)" \
    --valid-until "$(date -u -d '+30 days' +%F)" --profile "$C" >/dev/null

same "with no relay, the API refuses a mailto: hook (400)" 400 \
    "$(try_hook "$BI" "mailto:analis@bi.go.id" '["package.arrived"]')"
contains "saying the gateway sends no email" "sends no email" "$(detail)"
contains "and naming [email]" "[email]" "$(detail)"
refuse_saying "the CLI refuses it too, saying the gateway sends no email" "sends no email" \
    "$SERAMBI" hook add mailto:analis@bi.go.id --event package.arrived --profile "$BI"
same "nothing was registered" "" "$(hook_ids "$ADMIN")"

# ---- [email] errors: the gateway refuses to start, naming [email] and the key
stop_gateway
# bad_start DESCRIPTION WORD... -- KEY=VALUE...: `serve` with a copy of serambi.toml whose [email]
# holds these values exits at once, non-zero, saying every WORD.
bad_start() {
    local what=$1 words=() kv out rc w
    shift
    while [ "$1" != -- ]; do words+=("$1"); shift; done
    shift
    cp "$DEP/serambi.toml" "$DEP/bad.toml"
    for kv in "$@"; do set_in email "${kv%%=*}" "${kv#*=}" "$DEP/bad.toml"; done
    out=$(timeout 20 "$SERAMBI" serve --config "$DEP/bad.toml" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
        fail "$what: the gateway refuses to start (exit $rc: ${out:0:300})"
        return
    fi
    pass "$what: the gateway refuses to start (exit $rc)"
    for w in "${words[@]}"; do contains "$what: the message names $w" "$w" "$out"; done
}
GOOD_FROM='"serambi@diskominfo.malutprov.go.id"'
GO_ID='["go.id"]'
bad_start "security = \"none\" with a relay on another host" "[email]" security -- \
    relay='"smtp.malutprov.go.id:25"' security='"none"' from="$GOOD_FROM" allowed_domains="$GO_ID"
bad_start "security = \"none\" with a host that only begins like loopback" "[email]" security -- \
    relay='"127.evil.example:25"' security='"none"' from="$GOOD_FROM" allowed_domains="$GO_ID"
bad_start "a username without password_file" "[email]" username password_file -- \
    relay="\"127.0.0.1:$PORT_main\"" from="$GOOD_FROM" username="\"$RELAY_USER\"" allowed_domains="$GO_ID"
bad_start "a relay without from" "[email]" from -- relay="\"127.0.0.1:$PORT_main\"" allowed_domains="$GO_ID"
bad_start "a username with security = \"none\" (a password in the clear)" "[email]" username -- \
    relay="\"127.0.0.1:$PORT_main\"" security='"none"' from="$GOOD_FROM" username="\"$RELAY_USER\"" \
    password_file="\"$M/relay-password\"" allowed_domains="$GO_ID"
bad_start "a relay with allowed_domains left empty (no default destination)" "[email]" allowed_domains -- \
    relay="\"127.0.0.1:$PORT_main\"" from="$GOOD_FROM"
bad_start "an unknown security" email.security -- relay="\"127.0.0.1:$PORT_main\"" security='"ssl"' \
    from="$GOOD_FROM" allowed_domains="$GO_ID"
bad_start "a from that is no address" email.from -- relay="\"127.0.0.1:$PORT_main\"" \
    from='"Serambi <serambi@x.go.id>"' allowed_domains="$GO_ID"
bad_start "allowed_domains holding no domain" email.allowed_domains -- \
    relay="\"127.0.0.1:$PORT_main\"" from="$GOOD_FROM" allowed_domains='["go id"]'
bad_start "a relay without a port" email.relay -- relay='"127.0.0.1"' from="$GOOD_FROM" allowed_domains="$GO_ID"
rm -f "$DEP/bad.toml"
check "(the gateway was not left running by any of them)" test -z "$(pgrep -f "serve --config $DEP/bad.toml")"

# ---- The relay: STARTTLS with a certificate from the private CA, AUTH, domains under go.id
restart_with relay="\"127.0.0.1:$PORT_main\"" security='"starttls"' from="$GOOD_FROM" \
    username="\"$RELAY_USER\"" password_file="\"$M/relay-password\"" ca_file="\"$M/ca.crt\"" \
    allowed_domains='["go.id"]'
same "serambi.toml holds the relay's settings" "127.0.0.1:$PORT_main starttls ['go.id'] [1, 2, 2]" \
    "$(toml_value email.relay) $(toml_value email.security) $(toml_value email.allowed_domains) $(toml_value webhooks.retry_seconds)"

# ---- Registering addresses: each is mailed a code at once, and hears nothing until its owner
# confirms it with that code
BI_ADDR=Analis.BI@bi.go.id
add_hook bi "$BI" "mailto:Analis.BI@BI.Go.Id" --event package.arrived --event release.approved \
    --event release.refused --event approval.expiring --event certificate.expiring
add_hook walidata "$C" "mailto:walidata@dinkes.malutprov.go.id" --event release.requested
# The relay refuses notices to these two after reading them (451 twice, 550), not their codes.
add_hook temp "$BI" "mailto:tempfail-data+bi@bi.go.id" --event package.arrived
add_hook rejectdata "$BI" "mailto:reject-data@bi.go.id" --event package.arrived
# The relay refuses this one at RCPT TO: its code never arrives.
add_hook reject "$BI" "mailto:reject@bi.go.id" --event package.arrived
add_hook telkom "$TK" "mailto:mitra@telkom.go.id" --event package.arrived
# Confirmed only after the first package: it must not hear of that one, then or later.
add_hook belum "$BI" "mailto:belum@bi.go.id" --event package.arrived
# Never confirmed: five wrong codes.
add_hook salah "$BI" "mailto:salah@bi.go.id" --event package.arrived
# The same address again while its code is out: refused, so that no second code is mailed.
refuse_saying "an address waiting for its code cannot be registered again" "already waits for its confirmation" \
    "$SERAMBI" hook add mailto:salah@bi.go.id --event release.approved --profile "$BI"
if [ "${HOOK[bi]}" == hook-missing ]; then
    echo "the gateway registers no mailto: hooks: nothing else can be tested"
    finish
fi
check "the answer is the hook, its domain in lower case, no secret, not confirmed" python3 - "$M/hook-bi.json" <<'PYEOF'
import json, re, sys
h = json.load(open(sys.argv[1]))
assert re.fullmatch(r"hook-[0-9a-f]{16}", h["id"]), h
assert h["url"] == "mailto:Analis.BI@bi.go.id", h
assert h["owner"] == "bi-malut" and h["everyone"] is False, h
assert sorted(h["events"]) == sorted(["package.arrived", "release.approved", "release.refused",
                                      "approval.expiring", "certificate.expiring"]), h
assert "secret" not in h, h
assert h["confirmed"] is False, h
PYEOF
same "hook list shows the address as stored" "mailto:Analis.BI@bi.go.id" "$("$SERAMBI" hook list --json --profile "$BI" |
    python3 -c 'import json,sys,os; print([h["url"] for h in json.load(sys.stdin) if h["id"] == sys.argv[1]][0])' "${HOOK[bi]}")"
BEFORE=$(hook_ids "$BI")
out=$(LANG=C.UTF-8 LC_ALL=C.UTF-8 script -qec \
    "'$SERAMBI' hook add mailto:data@bi.go.id --event release.refused --profile '$BI'" /dev/null 2>&1)
check "the CLI registers an address for a terminal too" test $? -eq 0
out=$(tr -d '\r' <<<"$out")
contains "and shows the hook" "mailto:data@bi.go.id" "$out"
lacks "without any secret (no whsec_)" whsec_ "$out"
lacks "nor a line about one" secret "$(tr '[:upper:]' '[:lower:]' <<<"$out")"
HOOK[data]=$(hook_ids "$BI" | tr ' ' '\n' | grep -vxF -f <(tr ' ' '\n' <<<"$BEFORE"))
check "(its id: ${HOOK[data]})" grep -Eqx 'hook-[0-9a-f]{16}' <<<"${HOOK[data]}"
same "two lines: the hook, then what comes next" 2 "$(grep -c . <<<"$out")"
contains "the second says a code is on its way to the address" "a code is on its way to data@bi.go.id" "$out"
contains "and how to confirm it" "serambi hook confirm ${HOOK[data]} CODE" "$out"
same "the API answers 201 for an address, without secret" 201 \
    "$(try_hook "$C" "mailto:walidata.dua@DINKES.malutprov.go.id" '["approval.expiring"]')"
check "(no secret member; confirmed false)" python3 -c 'import json,sys; h = json.load(open(sys.argv[1])); assert "secret" not in h and h["url"] == "mailto:walidata.dua@dinkes.malutprov.go.id" and h["confirmed"] is False, h' "$WORK/last_body"
HOOK[c2]=$(json_field id <"$WORK/last_body")
# An HTTPS hook (nobody listens there; the partner is never told of release.requested): removed
# once its confirmation has been tried.
same "an https hook is registered (201)" 201 "$(try_hook "$BI" "https://127.0.0.1:9/serambi" '["release.requested"]')"
check "its answer says confirmed true, as made" python3 -c 'import json,sys; h = json.load(open(sys.argv[1])); assert h["confirmed"] is True and h["secret"].startswith("whsec_"), h' "$WORK/last_body"
HOOK[web]=$(json_field id <"$WORK/last_body")

# ---- Hostile and clumsy addresses, and domains outside go.id: refused, nothing registered
BEFORE_BI=$(hook_ids "$BI")
BEFORE_ALL=$(hook_ids "$ADMIN")
contains "(the partner's hooks are listed before)" "${HOOK[bi]}" "$BEFORE_BI"
bad_hook "mailto: with no address" url "$BI" "mailto:"
bad_hook "two addresses" url "$BI" "mailto:a@x.go.id,b@x.go.id"
bad_hook "two addresses with a semicolon" url "$BI" "mailto:a@x.go.id;b@x.go.id"
bad_hook "a query adding a Cc" url "$BI" "mailto:a@x.go.id?cc=b@y.go.id"
bad_hook "a query setting the body" url "$BI" "mailto:a@x.go.id?body=halo"
bad_hook "a display name" url "$BI" "mailto:Budi <a@x.go.id>"
bad_hook "an address in angle brackets" url "$BI" "mailto:<a@x.go.id>"
bad_hook "CR LF and a second RCPT TO (SMTP injection)" url "$BI" $'mailto:a@x.go.id\r\nRCPT TO:<evil@evil.com>'
bad_hook "a bare LF" url "$BI" $'mailto:a@x.go.id\nDATA'
bad_hook "a domain without a dot" url "$BI" "mailto:a@localhost"
bad_hook "no local part" url "$BI" "mailto:@x.go.id"
bad_hook "no domain" url "$BI" "mailto:a@"
bad_hook "no @ at all" url "$BI" "mailto:a.x.go.id"
bad_hook "two @" url "$BI" "mailto:a@b@x.go.id"
bad_hook "a space in the local part" url "$BI" "mailto:budi santoso@x.go.id"
bad_hook "a quoted local part" url "$BI" 'mailto:"budi"@x.go.id'
bad_hook "a quoted local part with a space" url "$BI" 'mailto:"budi santoso"@x.go.id'
bad_hook "two dots in the local part" url "$BI" "mailto:a..b@x.go.id"
bad_hook "an address literal" url "$BI" "mailto:a@[127.0.0.1]"
bad_hook "an IP address as the domain (numeric top-level label)" url "$BI" "mailto:a@10.0.0.1"
bad_hook "a % in the local part (the percent hack: relayed to evil.example)" url "$BI" "mailto:a%evil.example@bi.go.id"
bad_hook "a label starting with a hyphen" url "$BI" "mailto:a@-x.go.id"
bad_hook "a control character (^A) in the local part" url "$BI" "$(printf 'mailto:a\001@x.go.id')"
bad_hook "an address over 254 bytes" url "$BI" "mailto:a@$(printf 'abcdefghij%.0s.' $(seq 1 24))go.id"
bad_hook "MAILTO: in capitals (not a URL the gateway knows)" https "$BI" "MAILTO:a@x.go.id"
bad_hook "a domain outside go.id" go.id "$BI" "mailto:analis@telkom.co.id"
bad_hook "a domain that only ends in go.id (evilgo.id)" go.id "$BI" "mailto:a@evilgo.id"
bad_hook "a domain that only begins with go.id" go.id "$BI" "mailto:a@go.id.evil.com"
refuse_saying "the CLI refuses a domain outside go.id, naming the allowed domains" go.id \
    "$SERAMBI" hook add mailto:analis@gmail.com --event package.arrived --profile "$BI"
refuse_saying "the CLI refuses two addresses" "url" \
    "$SERAMBI" hook add "mailto:a@x.go.id,b@x.go.id" --event package.arrived --profile "$BI"
refuse "the CLI refuses a display name" "$SERAMBI" hook add "mailto:Budi <a@x.go.id>" --event package.arrived --profile "$BI"
same "none of that registered anything (the partner's hooks)" "$BEFORE_BI" "$(hook_ids "$BI")"
same "none of that registered anything (every hook)" "$BEFORE_ALL" "$(hook_ids "$ADMIN")"
same "nobody was sent anything for them" 0 "$(sink_saw main 'RCPT TO:<[^>]*(evil|x\.go\.id|co\.id|gmail)')"

# ---- The confirmation email, and who may confirm with its code
same "hook list --json: an address just registered is not confirmed" false "$(hook_confirmed "${HOOK[bi]}" "$BI")"
same "hook list --json: an https hook is confirmed as made" true "$(hook_confirmed "${HOOK[web]}" "$BI")"
eventually "the address is mailed a code at once (address.confirm)" 20 \
    mail_seen main "$BI_ADDR" "serambi hook confirm ${HOOK[bi]} "
pick main "$(mail_to main "$BI_ADDR" "serambi hook confirm ${HOOK[bi]} ")"
same "envelope recipient: the address alone" "$BI_ADDR" "$(f env.rcpt_tos)"
same "inside TLS, logged in" "true $RELAY_USER" "$(f env.tls) $(f env.login)"
same "To: the address" "<$BI_ADDR>" "$(f To)"
same "Subject" "[Serambi] Konfirmasi alamat surel untuk pemberitahuan" "$(f Subject)"
same "X-Serambi-Event: address.confirm" address.confirm "$(f X-Serambi-Event)"
matches "the body greets whoever reads the address: Yth. pemilik alamat ini," $'^Yth\\. pemilik alamat ini,\n' "$(f body)"
contains "it names the principal that registered the address, and the hook" \
    "Unit bi-malut di gateway Serambi mendaftarkan alamat surel ini untuk menerima pemberitahuan (${HOOK[bi]})" "$(f body)"
BI_CODE=$(f row.Kode)
CODE_RE='^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{4}$'
matches "row Kode: 8 characters nobody misreads (no 0 O 1 I), a hyphen in the middle ($BI_CODE)" "$CODE_RE" "$BI_CODE"
contains "and the command that confirms the hook with it" $'\n'"  serambi hook confirm ${HOOK[bi]} $BI_CODE"$'\n' "$(f body)"
check "the code is good for 7 days: the body names its last day, in WIT" python3 -c '
import datetime, re, sys, time
months = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split()
m = re.search(r"kode berikut sebelum (\d{1,2}) (\w+) (\d{4}) (\d{2})\.(\d{2}) WIT:", sys.argv[1])
assert m, sys.argv[1]
d, mo, y, h, mi = m.groups()
t = datetime.datetime(int(y), months.index(mo) + 1, int(d), int(h), int(mi),
                      tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
assert abs(t.timestamp() - (time.time() + 7 * 86400)) < 300, t' "$(f body)"
contains "whoever did not ask may ignore it: nothing else is sent" "abaikan surel ini" "$(f body)"
same "hook deliveries lists it: the hook's one delivery, event address.confirm" address.confirm \
    "$(delivery_events "${HOOK[bi]}" "$BI")"
BI_CONF=$(conf_msg "${HOOK[bi]}" "$BI")
eventually "delivered" 10 delivery_is "${HOOK[bi]}" "$BI" "$BI_CONF" delivered
same "at the first attempt, the relay's 250" "1 250" \
    "$(delivery "${HOOK[bi]}" "$BI" "$BI_CONF" attempts) $(delivery "${HOOK[bi]}" "$BI" "$BI_CONF" last_status)"

# Only the owner confirms, and it has five tries.
await_code salah salah@bi.go.id
S=${CODE[salah]}
WRONG=$(python3 -c '
import sys
a = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
c = sys.argv[1]
print(a[(a.index(c[0]) + 1) % len(a)] + c[1:])' "$S")
check "(a wrong code, $WRONG, for $S)" test -n "$S" -a "$WRONG" != "$S"
same "another principal confirming the partner's hook, even with the right code: 404" 404 \
    "$(confirm_status "$TK" "${HOOK[salah]}" "$S")"
contains "no such webhook" "no such webhook" "$(detail)"
same "nor the admin: 404" 404 "$(confirm_status "$ADMIN" "${HOOK[salah]}" "$S")"
contains "no such webhook" "no such webhook" "$(detail)"
refuse_saying "the CLI says so to another principal" "no such webhook" \
    "$SERAMBI" hook confirm "${HOOK[salah]}" "$S" --profile "$TK"
same "the hook is still unconfirmed" false "$(hook_confirmed "${HOOK[salah]}" "$BI")"
refuse_saying "a wrong code: refused, 4 tries left (the others' 404s took none)" \
    "code: not the code mailed to the address (4 tries left)" \
    "$SERAMBI" hook confirm "${HOOK[salah]}" "$WRONG" --profile "$BI"
for left in 3 2 1 0; do
    same "a wrong code again: 400" 400 "$(confirm_status "$BI" "${HOOK[salah]}" "$WRONG")"
    contains "$left tries left" "code: not the code mailed to the address ($left tries left)" "$(detail)"
done
same "after 5 wrong codes, the right one is refused: 409" 409 "$(confirm_status "$BI" "${HOOK[salah]}" "$S")"
contains "too many wrong codes" "too many wrong codes" "$(detail)"
refuse_saying "the CLI says so too" "too many wrong codes" "$SERAMBI" hook confirm "${HOOK[salah]}" "$S" --profile "$BI"
same "the hook stays unconfirmed" false "$(hook_confirmed "${HOOK[salah]}" "$BI")"

# The owner, with the right code; then once more, and an https hook.
confirm_address bi "$BI" "$BI_ADDR"
same "(the code the test read: the one in the Kode row)" "$BI_CODE" "${CODE[bi]}"
same "hook list --json: confirmed true now" true "$(hook_confirmed "${HOOK[bi]}" "$BI")"
same "confirming it again: 409" 409 "$(confirm_status "$BI" "${HOOK[bi]}" "${CODE[bi]}")"
contains "it is confirmed" "confirmed" "$(detail)"
refuse_saying "the CLI says so too" "confirmed" "$SERAMBI" hook confirm "${HOOK[bi]}" "${CODE[bi]}" --profile "$BI"
refuse_saying "an empty code on standard input is refused before anything is sent" "give the code" \
    "$SERAMBI" hook confirm "${HOOK[salah]}" --profile "$BI" </dev/null
same "an https hook needs no code: 409" 409 "$(confirm_status "$BI" "${HOOK[web]}" "${CODE[bi]}")"
same "(another principal's https hook: 404)" 404 "$(confirm_status "$TK" "${HOOK[web]}" "${CODE[bi]}")"
check "(the https hook removed)" "$SERAMBI" hook remove "${HOOK[web]}" --profile "$BI"
confirm_entry=$("$SERAMBI" audit search --action hook.confirm --json --profile "$A" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(json.loads(line)["entry"])
    if e["resource"] == "hooks/" + sys.argv[1] and e["decision"] == "allow":
        print(json.dumps(e))' "${HOOK[bi]}")
same "the access log records the confirmation: one hook.confirm, by the owner, allowed, 200" "1 bi-malut allow 200" \
    "$(grep -c . <<<"$confirm_entry") $(json_field principal <<<"$confirm_entry" 2>/dev/null) $(json_field decision <<<"$confirm_entry" 2>/dev/null) $(json_field status <<<"$confirm_entry" 2>/dev/null)"

# Case, spaces and hyphens do not matter: lower case on a terminal, and without the hyphen.
await_code data data@bi.go.id
out=$(LANG=C.UTF-8 LC_ALL=C.UTF-8 script -qec \
    "'$SERAMBI' hook confirm '${HOOK[data]}' '${CODE[data],,}' --profile '$BI'" /dev/null 2>&1)
check "the code in lower case is accepted (the CLI, on a terminal)" test $? -eq 0
contains "which says the hook is confirmed" "Webhook ${HOOK[data]} confirmed: mailto:data@bi.go.id" "$(tr -d '\r' <<<"$out")"
same "(confirmed true)" true "$(hook_confirmed "${HOOK[data]}" "$BI")"
CONFIRMED+=("${HOOK[data]}")
await_code c2 walidata.dua@dinkes.malutprov.go.id
same "the code without its hyphen, in lower case, is accepted (the API: 200)" 200 \
    "$(confirm_status "$C" "${HOOK[c2]}" "$(tr -d - <<<"${CODE[c2],,}")")"
check "the answer is the hook, confirmed" python3 -c 'import json,sys; h = json.load(open(sys.argv[1])); assert h["id"] == sys.argv[2] and h["confirmed"] is True and h["url"] == "mailto:walidata.dua@dinkes.malutprov.go.id", h' \
    "$WORK/last_body" "${HOOK[c2]}"
CONFIRMED+=("${HOOK[c2]}")

# The others that are to hear notices; the address the relay refuses never gets its code.
confirm_address walidata "$C" walidata@dinkes.malutprov.go.id
confirm_address temp "$BI" tempfail-data+bi@bi.go.id
confirm_address rejectdata "$BI" reject-data@bi.go.id
confirm_address telkom "$TK" mitra@telkom.go.id
check "every code is different" test "$(printf '%s\n' "${CODE[@]}" | sort -u | wc -l)" -eq "${#CODE[@]}"
check "and looks the same ($(printf '%s ' "${CODE[@]}"))" python3 -c '
import re, sys
assert all(re.fullmatch(sys.argv[1], c) for c in sys.argv[2:]), sys.argv[2:]' "$CODE_RE" "${CODE[@]}"
REJECT_MSG=$(conf_msg "${HOOK[reject]}" "$BI")
eventually "an address the relay rejects at RCPT TO (550): its code fails at once" 15 \
    delivery_is "${HOOK[reject]}" "$BI" "$REJECT_MSG" failed
same "after 1 attempt" 1 "$(delivery "${HOOK[reject]}" "$BI" "$REJECT_MSG" attempts)"
same "last_status 550" 550 "$(delivery "${HOOK[reject]}" "$BI" "$REJECT_MSG" last_status)"
contains "last_error: the relay answered 550 to RCPT TO" "the relay answered 550 to RCPT TO" \
    "$(delivery "${HOOK[reject]}" "$BI" "$REJECT_MSG" last_error)"
same "nothing more is planned" "" "$(delivery "${HOOK[reject]}" "$BI" "$REJECT_MSG" next_attempt_at)"
same "the relay never got the message" 0 "$(mailq "$M/main" count reject@bi.go.id)"
same "the hook stays unconfirmed" false "$(hook_confirmed "${HOOK[reject]}" "$BI")"
same "hook list --json: confirmed true for the confirmed, false for the others" \
    "bi=true belum=false data=true reject=false rejectdata=true salah=false temp=true" \
    "$(for h in bi belum data reject rejectdata salah temp; do printf '%s=%s ' "$h" "$(hook_confirmed "${HOOK[$h]}" "$BI")"; done | sed 's/ $//')"
await_code belum belum@bi.go.id

# ---- package.arrived to a partner that may read the package: released
MARKER=isi-paket-$(python3 -c 'import secrets; print(secrets.token_hex(12))')
printf '%s-gizi\n' "$MARKER" >"$WORK/gizi.csv"
P1=$(push dinkes-malut/gizi "$WORK/gizi.csv")
# What the retried notice looks like on the way (see "The relay's answers").
watch_deliveries "${HOOK[temp]}" "$BI" "$M/temp-watch.jsonl" &
WATCH_PID=$!
check "(pushed $P1)" grep -Eq '^[0-9a-f]{32}$' <<<"$P1"
eventually "the partner's address gets an email about the package (package.arrived)" 20 mail_seen main "$BI_ADDR" "$P1"
pick main "$(mail_to main "$BI_ADDR" "$P1")"
same "envelope sender: [email] from" serambi@diskominfo.malutprov.go.id "$(f env.mail_from)"
same "envelope recipient: the address alone" "$BI_ADDR" "$(f env.rcpt_tos)"
same "handed over inside TLS (STARTTLS)" true "$(f env.tls)"
same "after logging in as [email] username" "$RELAY_USER" "$(f env.login)"
same "From: Serambi <from>" "Serambi <serambi@diskominfo.malutprov.go.id>" "$(f From)"
same "To: the address" "<$BI_ADDR>" "$(f To)"
same "Subject" "[Serambi] Paket baru di dinkes-malut/gizi" "$(f Subject)"
same "Auto-Submitted: auto-generated" auto-generated "$(f Auto-Submitted)"
same "X-Serambi-Event: package.arrived" package.arrived "$(f X-Serambi-Event)"
same "Content-Type: text/plain; charset=utf-8" "text/plain; charset=utf-8" "$(f Content-Type)"
check "Content-Transfer-Encoding: 7bit or base64 ($(f Content-Transfer-Encoding))" grep -Eqx '7bit|base64' <<<"$(f Content-Transfer-Encoding)"
matches "Message-ID: <msg_…@the sender's domain>" '^<msg_[0-9a-f]{32}@diskominfo\.malutprov\.go\.id>$' "$(f Message-ID)"
check "Date: now, as RFC 5322 writes it ($(f Date))" python3 -c '
import email.utils, sys, time
d = email.utils.parsedate_to_datetime(sys.argv[1])
assert d.tzinfo is not None and abs(d.timestamp() - time.time()) < 300, d' "$(f Date)"
check "every line ends CRLF, none longer than 998" python3 -c '
import sys
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\n") == raw.count(b"\r\n") and raw.endswith(b"\r\n"), "bare LF"
assert max(len(l) for l in raw.split(b"\r\n")) <= 998' "$M/main/$(mail_to main "$BI_ADDR" "$P1").eml"
MSG1=$(sed -E 's/^<(msg_[0-9a-f]{32})@.*/\1/' <<<"$(f Message-ID)")
matches "the body greets the recipient: Yth. bi-malut," $'^Yth\\. bi-malut,\n' "$(f body)"
contains "says the package can be downloaded" "dan dapat Anda unduh" "$(f body)"
same "row Paket: the package's id" "$P1" "$(f row.Paket)"
same "row Nama berkas: the file's name" gizi.csv "$(f "row.Nama berkas")"
same "row Ukuran: its size" "$(stat -c %s "$WORK/gizi.csv") B" "$(f row.Ukuran)"
same "row Klasifikasi" terbatas "$(f row.Klasifikasi)"
same "row Pengirim: the producer" dinkes-malut "$(f row.Pengirim)"
matches "row Waktu: an Indonesian date in WIT ($(f row.Waktu))" \
    '^[0-9]{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember) 20[0-9]{2} [0-9]{2}\.[0-9]{2} WIT$' \
    "$(f row.Waktu)"
check "row Waktu: the time of the push in Jayapura (UTC+9)" python3 -c '
import datetime, sys
months = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split()
d, m, y, hm, _ = sys.argv[1].split()
h, mi = hm.split(".")
t = datetime.datetime(int(y), months.index(m) + 1, int(d), int(h), int(mi), tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
assert abs(t.timestamp() - datetime.datetime.now().timestamp()) < 300, t' "$(f row.Waktu)"
contains "Unduh dengan: serambi pull ID" "Unduh dengan: serambi pull $P1" "$(f body)"
lacks "the body has none of the package's content" "$MARKER" "$(f body)"
same "no email anywhere holds the content" 0 "$(mailq "$M/main" has "$MARKER")"
same "not even base64-encoded" 0 "$(mailq "$M/main" has "$(base64 -w0 "$WORK/gizi.csv" | cut -c1-24)")"
eventually "hook deliveries shows it delivered" 20 delivery_is "${HOOK[bi]}" "$BI" "$MSG1" delivered
same "at the first attempt" 1 "$(delivery "${HOOK[bi]}" "$BI" "$MSG1" attempts)"
same "last_status: the relay's 250" 250 "$(delivery "${HOOK[bi]}" "$BI" "$MSG1" last_status)"
same "no last_error" "" "$(delivery "${HOOK[bi]}" "$BI" "$MSG1" last_error)"
same "event package.arrived" package.arrived "$(delivery "${HOOK[bi]}" "$BI" "$MSG1" event)"
same "the hook for another event (release.refused) got nothing but its code" 0 "$(mailq "$M/main" notices data@bi.go.id)"

# ---- An address not confirmed hears nothing, not even later
same "the unconfirmed address got its code, and nothing about the package its hook listens for" \
    address.confirm "$(mailq "$M/main" events belum@bi.go.id)"
same "its hook's deliveries: the confirmation alone" address.confirm "$(delivery_events "${HOOK[belum]}" "$BI")"
same "the same for the hook whose five codes were wrong" "address.confirm address.confirm" \
    "$(mailq "$M/main" events salah@bi.go.id) $(delivery_events "${HOOK[salah]}" "$BI")"
same "and for the address the relay refuses (no email at all)" " address.confirm" \
    "$(mailq "$M/main" events reject@bi.go.id) $(delivery_events "${HOOK[reject]}" "$BI")"
confirm_address belum "$BI" belum@bi.go.id
same "confirmed now, it is not told of the package that came before" address.confirm \
    "$(delivery_events "${HOOK[belum]}" "$BI")"

# ---- The relay's answers: 4xx after the message retried, 5xx final
eventually "a notice the relay refuses twice after reading it (451) is tried again until accepted" 20 \
    mail_seen main tempfail-data+bi@bi.go.id "$P1"
TEMP_MSG=$(new_delivery "${HOOK[temp]}" "$BI" "${CONF_MSG[temp]}")
same "(the hook has two deliveries: its code, the notice)" "address.confirm package.arrived" \
    "$(delivery_events "${HOOK[temp]}" "$BI")"
eventually "hook deliveries shows it delivered" 10 delivery_is "${HOOK[temp]}" "$BI" "$TEMP_MSG" delivered
same "after 3 attempts" 3 "$(delivery "${HOOK[temp]}" "$BI" "$TEMP_MSG" attempts)"
same "the last answered 250" 250 "$(delivery "${HOOK[temp]}" "$BI" "$TEMP_MSG" last_status)"
wait "$WATCH_PID"
WATCH_PID=
check "on the way it was pending, last_status 451, last_error: the relay answered 451 to message" python3 -c '
import json, sys
seen = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(d["id"] == sys.argv[2] and d["state"] == "pending" and d["last_status"] == 451 and
           "the relay answered 451 to message" in d["last_error"] for d in seen), seen[-2:]' \
    "$M/temp-watch.jsonl" "$TEMP_MSG"
same "the relay saw RCPT TO four times: the code's, then the notice's three" 4 \
    "$(sink_saw main 'RCPT TO:<tempfail-data\+bi@bi\.go\.id>')"
same "and refused two messages with 451 after their DATA" 2 "$(grep -c '^C[0-9]* < 451 4.3.0 <tempfail-data' "$M/main.log")"
same "it kept the code, and the notice once" "address.confirm package.arrived" "$(mailq "$M/main" events tempfail-data+bi@bi.go.id)"
REJECTDATA_MSG=$(new_delivery "${HOOK[rejectdata]}" "$BI" "${CONF_MSG[rejectdata]}")
same "(the hook refused after DATA has two deliveries: its code, the notice)" "address.confirm package.arrived" \
    "$(delivery_events "${HOOK[rejectdata]}" "$BI")"
eventually "a notice the relay refuses after reading it (550) fails at once" 10 \
    delivery_is "${HOOK[rejectdata]}" "$BI" "$REJECTDATA_MSG" failed
same "after 1 attempt" 1 "$(delivery "${HOOK[rejectdata]}" "$BI" "$REJECTDATA_MSG" attempts)"
same "last_status 550" 550 "$(delivery "${HOOK[rejectdata]}" "$BI" "$REJECTDATA_MSG" last_status)"
contains "last_error: the relay answered 550 to message" "the relay answered 550 to message" \
    "$(delivery "${HOOK[rejectdata]}" "$BI" "$REJECTDATA_MSG" last_error)"
contains "with the relay's words, the address being confirmed" "5.2.1 <reject-data@bi.go.id>: Mailbox disabled" \
    "$(delivery "${HOOK[rejectdata]}" "$BI" "$REJECTDATA_MSG" last_error)"
same "nothing more is planned" "" "$(delivery "${HOOK[rejectdata]}" "$BI" "$REJECTDATA_MSG" next_attempt_at)"
# The temporary refusals took two retry_seconds: a 550 retried would have shown by now.
same "the relay saw its RCPT TO twice (the code's, the notice's), never again" 2 \
    "$(sink_saw main 'RCPT TO:<reject-data@bi\.go\.id>')"
same "and kept only the code" address.confirm "$(mailq "$M/main" events reject-data@bi.go.id)"
same "the address refused at RCPT TO: the relay saw it once, for the code, never again" 1 \
    "$(sink_saw main 'RCPT TO:<reject@bi\.go\.id>')"
same "and never its DATA" 0 "$(mailq "$M/main" count reject@bi.go.id)"

# ---- Who is told: the policy, as for webhooks
printf '%s-umum\n' "$MARKER" >"$WORK/umum.csv"
U1=$(push dinkes-malut/umum "$WORK/umum.csv")
eventually "a biasa package reaches the partner without an agreement" 20 mail_seen main mitra@telkom.go.id "$U1"
eventually "and the partner with one" 20 mail_seen main "$BI_ADDR" "$U1"
same "the partner without an agreement heard nothing of the terbatas package" 0 "$(mailq "$M/main" count mitra@telkom.go.id "$P1")"
same "its hook has its code and just the one notice" "address.confirm package.arrived" \
    "$(delivery_events "${HOOK[telkom]}" "$TK")"
eventually "the address confirmed after the first package hears of the next one" 20 mail_seen main belum@bi.go.id "$U1"
same "but never of the first" 0 "$(mailq "$M/main" count belum@bi.go.id "$P1")"
same "its emails: the code, then that one notice" "address.confirm package.arrived" "$(mailq "$M/main" events belum@bi.go.id)"
same "its deliveries: the same" "address.confirm package.arrived" "$(delivery_events "${HOOK[belum]}" "$BI")"
lacks "its deliveries (--json) do not show its code" "${CODE[belum]}" \
    "$("$SERAMBI" hook deliveries "${HOOK[belum]}" --limit 500 --json --profile "$BI" 2>&1)"
check "(that hook removed: it has shown what it had to)" "$SERAMBI" hook remove "${HOOK[belum]}" --profile "$BI"
same "the hook whose five codes were wrong still has only its confirmation" address.confirm \
    "$(delivery_events "${HOOK[salah]}" "$BI")"
same "no custodian's address heard of a package (they listen for other events)" 0 \
    "$(( $(mailq "$M/main" count walidata@dinkes.malutprov.go.id "$P1") + $(mailq "$M/main" count walidata@dinkes.malutprov.go.id "$U1") ))"

# ---- A rahasia package: the partner may only ask for it; no file name in the email
printf '%s-anggaran\n' "$MARKER" >"$WORK/anggaran-rahasia-2026.csv"
R1=$(push dinkes-malut/anggaran "$WORK/anggaran-rahasia-2026.csv")
eventually "a rahasia package is announced to the partner" 20 mail_seen main "$BI_ADDR" "$R1"
pick main "$(mail_to main "$BI_ADDR" "$R1")"
same "Subject" "[Serambi] Paket baru di dinkes-malut/anggaran" "$(f Subject)"
contains "the body says the partner may ask for its release (meminta rilis)" "meminta rilis" "$(f body)"
contains "and how" "Minta rilis dengan: serambi request $R1" "$(f body)"
lacks "not that it can be downloaded" "Unduh dengan" "$(f body)"
same "row Klasifikasi: rahasia" rahasia "$(f row.Klasifikasi)"
same "row Nama berkas: left out" "(tidak dicantumkan untuk klasifikasi rahasia)" "$(f "row.Nama berkas")"
same "the file's name is in no email, raw or decoded" 0 "$(mailq "$M/main" has anggaran-rahasia-2026)"
same "nor its content" 0 "$(mailq "$M/main" has "$MARKER")"

# ---- release.requested to the custodian, release.approved and release.refused to the partner
REQ=$("$SERAMBI" request "$R1" --purpose "kajian harga pangan" --profile "$BI" | json_field id)
eventually "the request reaches the custodian's address (release.requested)" 20 \
    mail_seen main walidata@dinkes.malutprov.go.id "$REQ"
pick main "$(mail_to main walidata@dinkes.malutprov.go.id "$REQ")"
same "Subject" "[Serambi] Permintaan rilis menunggu keputusan: dinkes-malut/anggaran" "$(f Subject)"
same "X-Serambi-Event" release.requested "$(f X-Serambi-Event)"
matches "Yth. walidata," $'^Yth\\. walidata,\n' "$(f body)"
contains "the partner asks (meminta rilis)" "Mitra bi-malut meminta rilis" "$(f body)"
same "row Permintaan" "$REQ" "$(f row.Permintaan)"
same "row Paket" "$R1" "$(f row.Paket)"
same "row Keperluan: the purpose" "kajian harga pangan" "$(f row.Keperluan)"
same "row Klasifikasi" rahasia "$(f row.Klasifikasi)"
lacks "no file name" anggaran-rahasia-2026 "$(f raw)$(f body)"

APV=$("$SERAMBI" approve "$R1" --for bi-malut --expires "$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)" \
    --profile "$C" | json_field id)
eventually "the approval reaches the partner (release.approved)" 20 mail_seen main "$BI_ADDR" "$APV" "Rilis paket"
pick main "$(mail_to main "$BI_ADDR" "$APV" "Rilis paket")"
same "Subject" "[Serambi] Rilis disetujui: dinkes-malut/anggaran" "$(f Subject)"
same "X-Serambi-Event" release.approved "$(f X-Serambi-Event)"
same "row Persetujuan" "$APV" "$(f row.Persetujuan)"
same "row Paket" "$R1" "$(f row.Paket)"
same "row Disetujui oleh: the custodian" walidata "$(f "row.Disetujui oleh")"
matches "row Berlaku sampai: in WIT" ' WIT$' "$(f "row.Berlaku sampai")"
contains "the package may now be pulled" "Unduh dengan: serambi pull $R1" "$(f body)"
eventually "an approval ending within 24 hours is announced (approval.expiring)" 20 \
    mail_seen main "$BI_ADDR" "$APV" "berakhir dalam 24 jam"
pick main "$(mail_to main "$BI_ADDR" "$APV" "berakhir dalam 24 jam")"
same "Subject" "[Serambi] Persetujuan rilis akan berakhir: dinkes-malut/anggaran" "$(f Subject)"
same "X-Serambi-Event" approval.expiring "$(f X-Serambi-Event)"

printf '%s-anggaran-2\n' "$MARKER" >"$WORK/anggaran2.csv"
R2=$(push dinkes-malut/anggaran "$WORK/anggaran2.csv")
REQ2=$("$SERAMBI" request "$R2" --purpose "iklan" --profile "$BI" | json_field id)
REASON="tujuan di luar MOU — lihat pasal 5"
check "the custodian refuses the second request" "$SERAMBI" requests refuse "$REQ2" --reason "$REASON" --profile "$C"
eventually "the refusal reaches the partner (release.refused)" 20 mail_seen main "$BI_ADDR" "$REQ2" "ditolak"
pick main "$(mail_to main "$BI_ADDR" "$REQ2" "ditolak")"
same "Subject" "[Serambi] Permintaan rilis ditolak: dinkes-malut/anggaran" "$(f Subject)"
same "X-Serambi-Event" release.refused "$(f X-Serambi-Event)"
same "row Alasan: the reason, with its em dash (UTF-8)" "$REASON" "$(f row.Alasan)"
same "so the body went as base64" base64 "$(f Content-Transfer-Encoding)"
same "row Paket" "$R2" "$(f row.Paket)"
eventually "the second address of the partner, for release.refused only, gets it too" 20 \
    mail_seen main data@bi.go.id "$REQ2"
same "and nothing else (but its code)" "address.confirm release.refused" "$(mailq "$M/main" events data@bi.go.id)"

# ---- certificate.expiring: the partner's certificate lives 20 days
SERIAL=$("$SERAMBI" whoami --json --profile "$BI" | json_field certificate_serial)
eventually "the partner's address hears that its certificate ends soon (certificate.expiring)" 20 \
    mail_seen main "$BI_ADDR" "Sertifikat Serambi untuk bi-malut"
pick main "$(mail_to main "$BI_ADDR" "Sertifikat Serambi untuk bi-malut")"
same "Subject" "[Serambi] Sertifikat Anda akan berakhir" "$(f Subject)"
same "X-Serambi-Event" certificate.expiring "$(f X-Serambi-Event)"
check "row Nomor seri: the certificate's serial ($(f "row.Nomor seri") ~ $SERIAL)" python3 -c '
import sys
n = lambda s: s.replace(":", "").lower().lstrip("0")
assert n(sys.argv[1]) == n(sys.argv[2]) != "", sys.argv[1:]' "$(f "row.Nomor seri")" "$SERIAL"
contains "and how to renew" "serambi renew" "$(f body)"

# ---- Every email: well formed, from the one sender, inside TLS, logged in, no content
CONFIRM_TO=("$BI_ADDR" walidata@dinkes.malutprov.go.id tempfail-data+bi@bi.go.id reject-data@bi.go.id
    mitra@telkom.go.id data@bi.go.id walidata.dua@dinkes.malutprov.go.id belum@bi.go.id salah@bi.go.id)
check "every email has the headers, a msg_ Message-ID and a body greeting its recipient" python3 - "$M/main" <<'PYEOF'
import email, email.policy, glob, json, re, sys
paths = sorted(glob.glob(sys.argv[1] + "/*.eml"), key=lambda p: int(p.rsplit("/", 1)[1][:-4]))
assert len(paths) >= 18, len(paths)
ids = set()
for p in paths:
    env = json.load(open(p[:-4] + ".json"))
    assert env["tls"] and env["login"] == "serambi-relay", (p, env)
    assert env["mail_from"] == "serambi@diskominfo.malutprov.go.id" and len(env["rcpt_tos"]) == 1, (p, env)
    m = email.message_from_bytes(open(p, "rb").read(), policy=email.policy.default)
    h = dict(m.raw_items())
    assert len(h) == len(m.keys()), ("a header twice", p, m.keys())
    assert h["From"] == "Serambi <serambi@diskominfo.malutprov.go.id>", (p, h["From"])
    assert h["To"] == "<%s>" % env["rcpt_tos"][0], (p, h["To"], env)
    assert h["Subject"].startswith("[Serambi] "), (p, h["Subject"])
    assert h["Auto-Submitted"] == "auto-generated" and h["X-Serambi-Event"], p
    assert h["Content-Type"] == "text/plain; charset=utf-8", (p, h["Content-Type"])
    assert h["Content-Transfer-Encoding"] in ("7bit", "base64"), p
    assert h["MIME-Version"] == "1.0" and h["Date"], p
    mid = re.fullmatch(r"<(msg_[0-9a-f]{32})@diskominfo\.malutprov\.go\.id>", h["Message-ID"])
    assert mid, (p, h["Message-ID"])
    assert mid.group(1) not in ids, ("Message-ID twice", p)
    ids.add(mid.group(1))
    if h["X-Serambi-Event"] == "address.confirm":
        assert h["Subject"] == "[Serambi] Konfirmasi alamat surel untuk pemberitahuan", (p, h["Subject"])
        assert re.match(r"Yth\. pemilik alamat ini,\r?\n", m.get_content()), (p, m.get_content()[:40])
        assert re.search(r"(?m)^  Kode +: [2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\r?$", m.get_content()), p
    else:
        assert re.match(r"Yth\. [a-z0-9-]+,\r?\n", m.get_content()), (p, m.get_content()[:40])
    assert "Isi paket tidak pernah" in m.get_content(), p
PYEOF
check "each address got one code, before anything else (${#CONFIRM_TO[@]} addresses)" python3 - "$M/main" "${CONFIRM_TO[@]}" <<'PYEOF'
import email, email.policy, glob, json, sys
paths = sorted(glob.glob(sys.argv[1] + "/*.eml"), key=lambda p: int(p.rsplit("/", 1)[1][:-4]))
seen = {}
for p in paths:
    to = json.load(open(p[:-4] + ".json"))["rcpt_tos"][0].lower()
    m = email.message_from_bytes(open(p, "rb").read(), policy=email.policy.default)
    seen.setdefault(to, []).append(str(m["X-Serambi-Event"]))
want = sorted(a.lower() for a in sys.argv[2:])
assert sorted(to for to, ev in seen.items() if "address.confirm" in ev) == want, seen
for to, ev in seen.items():
    assert ev[0] == "address.confirm" and ev.count("address.confirm") == 1, (to, ev)
PYEOF
same "no email holds any pushed file's content" 0 "$(mailq "$M/main" has "$MARKER")"

# ---- A wrong password: 535 to AUTH is the operator's to fix, not the address's: the notice
# waits (retried like a 4xx) and the server log says so; put right, it goes out, no restart.
BEFORE=$(delivery_ids "${HOOK[bi]}" "$BI")
printf '%s\n' "$WRONG_PASSWORD" >"$M/relay-password"
AUTH_FAILS=$(grep -c '^C[0-9]* < 535' "$M/main.log")
printf '%s-gizi-3\n' "$MARKER" >"$WORK/gizi3.csv"
P3=$(push dinkes-malut/gizi "$WORK/gizi3.csv")
# The new delivery as it was when its attempt was refused, kept in $M/refused.json: the checks
# below read that one moment, not a later attempt's (one made with the password put right clears
# last_error).
refused_login() {
    "$SERAMBI" hook deliveries "${HOOK[bi]}" --limit 500 --json --profile "$BI" 2>/dev/null | python3 -c '
import json, sys
new = [d for d in json.load(sys.stdin) if d["id"] not in set(sys.argv[1].split())]
assert len(new) == 1 and str(new[0]["last_status"]) == "535", new
json.dump(new[0], open(sys.argv[2], "w"))' "$BEFORE" "$M/refused.json"
}
refused() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$M/refused.json" "$1" 2>&1; }
eventually "with a wrong password in password_file, the relay refuses the login (last_status 535)" 20 refused_login
printf '%s\n' "$RELAY_PASSWORD" >"$M/relay-password"
AUTH_MSG=$(refused id)
same "the delivery is not given up: pending" pending "$(refused state)"
check "the relay saw the login refused" test "$(grep -c '^C[0-9]* < 535' "$M/main.log")" -gt "$AUTH_FAILS"
contains "last_error: the relay answered 535 to AUTH" "the relay answered 535 to AUTH" "$(refused last_error)"
eventually "the server log tells the operator" 10 grep -qF "email: the relay refused AUTH (535)" "$WORK/gateway.log"
eventually "the password put right (no restart), the same notice is delivered" 20 \
    delivery_is "${HOOK[bi]}" "$BI" "$AUTH_MSG" delivered
check "at a later attempt ($(delivery "${HOOK[bi]}" "$BI" "$AUTH_MSG" attempts))" \
    test "$(delivery "${HOOK[bi]}" "$BI" "$AUTH_MSG" attempts)" -ge 2
same "its email arrived once" 1 "$(mailq "$M/main" count "$BI_ADDR" "$P3")"

# ---- The access log: every delivery that ended, naming the domain, never the address
audit_deliveries() { # one JSON entry a line
    "$SERAMBI" audit search --action hook.delivery --json --profile "$A" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    print(json.loads(line)["entry"])'
}
audit_for() { audit_deliveries | grep -F "hooks/$1/deliveries/$2"; }
audit_has() { [ -n "$(audit_for "$@")" ]; }
eventually "the access log records the delivered email (hook.delivery)" 10 audit_has "${HOOK[bi]}" "$MSG1"
entry=$(audit_for "${HOOK[bi]}" "$MSG1")
same "under its owner, allowed, status 250" "bi-malut allow 250" \
    "$(json_field principal <<<"$entry") $(json_field decision <<<"$entry") $(json_field status <<<"$entry")"
contains "its text names the domain (email at bi.go.id)" "email at bi.go.id" "$(json_field reason <<<"$entry")"
lacks "not the address" "Analis.BI@" "$entry"
eventually "the code's delivery is recorded too" 10 audit_has "${HOOK[bi]}" "$BI_CONF"
entry=$(audit_for "${HOOK[bi]}" "$BI_CONF")
same "allowed, status 250" "bi-malut allow 250" \
    "$(json_field principal <<<"$entry") $(json_field decision <<<"$entry") $(json_field status <<<"$entry")"
contains "as address.confirm, naming the domain" "address.confirm for bi-malut to email at bi.go.id" \
    "$(json_field reason <<<"$entry")"
lacks "not the code" "${CODE[bi]}" "$entry"
eventually "the 550 refusal of a code at RCPT TO is recorded too" 10 audit_has "${HOOK[reject]}" "$REJECT_MSG"
entry=$(audit_for "${HOOK[reject]}" "$REJECT_MSG")
same "as an error with status 550" "error 550" "$(json_field decision <<<"$entry") $(json_field status <<<"$entry")"
contains "naming the domain" "email at bi.go.id" "$(json_field reason <<<"$entry")"
contains "the code and the step" "the relay answered 550 to RCPT TO" "$(json_field reason <<<"$entry")"
lacks "not the address, even though the relay's reply named it" "reject@bi.go.id" "$entry"
# Nor do the owner's deliveries while the address is unconfirmed: the relay's words would tell
# the registrant whether a mailbox exists.
lacks "(nor the owner's deliveries, for an address not confirmed)" "reject@bi.go.id" \
    "$(delivery "${HOOK[reject]}" "$BI" "$REJECT_MSG" last_error)"
eventually "the 550 refusal of a notice after its DATA is recorded" 10 audit_has "${HOOK[rejectdata]}" "$REJECTDATA_MSG"
entry=$(audit_for "${HOOK[rejectdata]}" "$REJECTDATA_MSG")
same "as an error with status 550" "error 550" "$(json_field decision <<<"$entry") $(json_field status <<<"$entry")"
contains "the code and the step" "the relay answered 550 to message" "$(json_field reason <<<"$entry")"
lacks "not the address" "reject-data@" "$entry"
eventually "the notice that waited out the wrong password is recorded as delivered" 10 audit_has "${HOOK[bi]}" "$AUTH_MSG"
entry=$(audit_for "${HOOK[bi]}" "$AUTH_MSG")
same "allowed, status 250" "allow 250" "$(json_field decision <<<"$entry") $(json_field status <<<"$entry")"
eventually "the custodian's email is recorded, naming its domain" 10 \
    grep -q "email at dinkes.malutprov.go.id" < <(audit_deliveries)

# ---- allowed_domains = ["*"]: an address anywhere, confirmed through the relay
restart_with allowed_domains='["*"]'
same "with allowed_domains = [\"*\"] an address anywhere is accepted (201)" 201 \
    "$(try_hook "$TK" "mailto:mitra.telkom@gmail.com" '["package.arrived"]')"
HOOK[gmail]=$(json_field id <"$WORK/last_body" 2>/dev/null)
confirm_address gmail "$TK" mitra.telkom@gmail.com

# ---- A relay that does not offer STARTTLS: nothing sent, no password in the clear
BEFORE=$(delivery_ids "${HOOK[bi]}" "$BI")
restart_with relay="\"127.0.0.1:$PORT_plain\""
printf '%s-gizi-5\n' "$MARKER" >"$WORK/gizi5.csv"
P5=$(push dinkes-malut/gizi "$WORK/gizi5.csv")
eventually "a delivery is tried through the relay without STARTTLS" 20 has_new_delivery "${HOOK[bi]}" "$BI" "$BEFORE"
PLAIN_MSG=$(new_delivery "${HOOK[bi]}" "$BI" "$BEFORE")
eventually "it ends failed, after len(retry_seconds)+1 = 4 attempts" 30 delivery_is "${HOOK[bi]}" "$BI" "$PLAIN_MSG" failed
same "4 attempts" 4 "$(delivery "${HOOK[bi]}" "$BI" "$PLAIN_MSG" attempts)"
error=$(delivery "${HOOK[bi]}" "$BI" "$PLAIN_MSG" last_error)
contains "last_error mentions STARTTLS ($error)" STARTTLS "$error"
same "no SMTP status (the relay refused nothing)" 0 "$(delivery "${HOOK[bi]}" "$BI" "$PLAIN_MSG" last_status)"
check "the gateway did speak to that relay (EHLO)" test "$(sink_saw plain EHLO)" -ge 4
same "but never sent MAIL FROM" 0 "$(sink_saw plain 'MAIL')"
same "nor AUTH, though the relay offered it in the clear" 0 "$(sink_saw plain 'AUTH')"
same "nor RCPT TO or DATA" 0 "$(sink_saw plain 'RCPT|DATA')"
same "the relay received no message" 0 "$(mailq "$M/plain" total)"

# ---- A relay whose certificate no trusted CA issued, or that names another host: nothing sent
for bad in untrusted badname; do
    BEFORE=$(delivery_ids "${HOOK[bi]}" "$BI")
    port_var=PORT_$bad
    restart_with relay="\"127.0.0.1:${!port_var}\""
    printf '%s-gizi-%s\n' "$MARKER" "$bad" >"$WORK/gizi-$bad.csv"
    push dinkes-malut/gizi "$WORK/gizi-$bad.csv" >/dev/null
    eventually "$bad: a delivery is tried" 20 has_new_delivery "${HOOK[bi]}" "$BI" "$BEFORE"
    BAD_MSG=$(new_delivery "${HOOK[bi]}" "$BI" "$BEFORE")
    eventually "$bad: it ends failed after 4 attempts" 30 delivery_is "${HOOK[bi]}" "$BI" "$BAD_MSG" failed
    same "$bad: 4 attempts" 4 "$(delivery "${HOOK[bi]}" "$BI" "$BAD_MSG" attempts)"
    error=$(delivery "${HOOK[bi]}" "$BI" "$BAD_MSG" last_error)
    contains "$bad: last_error mentions TLS ($error)" TLS "$error"
    contains "$bad: and the certificate's verification" "certificate verify failed" "$error"
    check "$bad: the gateway asked for STARTTLS" test "$(sink_saw "$bad" STARTTLS)" -ge 1
    same "$bad: but never sent MAIL FROM, AUTH, RCPT TO or DATA" 0 "$(sink_saw "$bad" 'MAIL|AUTH|RCPT|DATA')"
    same "$bad: the relay received no message" 0 "$(mailq "$M/$bad" total)"
done

# ---- TLS from the first byte (security = "tls", port-465 style)
restart_with relay="\"127.0.0.1:$PORT_implicit\"" security='"tls"' allowed_domains='["go.id"]'
printf '%s-gizi-6\n' "$MARKER" >"$WORK/gizi6.csv"
P6=$(push dinkes-malut/gizi "$WORK/gizi6.csv")
eventually "with security = \"tls\" the email is accepted" 20 mail_seen implicit "$BI_ADDR" "$P6"
pick implicit "$(mail_to implicit "$BI_ADDR" "$P6")"
same "inside TLS, logged in" "true $RELAY_USER" "$(f env.tls) $(f env.login)"
same "the relay never saw STARTTLS (TLS was there already)" 0 "$(sink_saw implicit STARTTLS)"
same "Subject" "[Serambi] Paket baru di dinkes-malut/gizi" "$(f Subject)"

# ---- allowed_domains is checked again at each sending: back to go.id, the gmail hook is not mailed
printf '%s-umum-2\n' "$MARKER" >"$WORK/umum2.csv"
U2=$(push dinkes-malut/umum "$WORK/umum2.csv")
eventually "a biasa package reaches the partner's go.id address" 20 mail_seen implicit mitra@telkom.go.id "$U2"
GMAIL_MSG=$(new_delivery "${HOOK[gmail]}" "$TK" "${CONF_MSG[gmail]}")
same "(the gmail hook has its code's delivery and one notice)" "address.confirm package.arrived" \
    "$(delivery_events "${HOOK[gmail]}" "$TK")"
eventually "its delivery fails at once: the domain is no longer allowed" 10 delivery_is "${HOOK[gmail]}" "$TK" "$GMAIL_MSG" failed
same "after 1 attempt" 1 "$(delivery "${HOOK[gmail]}" "$TK" "$GMAIL_MSG" attempts)"
contains "last_error names allowed_domains" allowed_domains "$(delivery "${HOOK[gmail]}" "$TK" "$GMAIL_MSG" last_error)"
same "the relay saw that address once, for its code" 1 "$(sink_saw main 'RCPT TO:<mitra\.telkom@gmail\.com>')"
same "and kept only the code" address.confirm "$(mailq "$M/main" events mitra.telkom@gmail.com)"
same "no other relay ever saw that address" "" \
    "$(grep -ril 'gmail' "$M"/{plain,untrusted,badname,implicit}.log "$M"/{plain,untrusted,badname,implicit}/ 2>/dev/null)"

# ---- The access log, once more: every delivery that ended, in every phase
ALL_AUDIT=$(audit_deliveries)
check "every hook.delivery entry says email at DOMAIN ($(grep -c . <<<"$ALL_AUDIT"))" python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin if l.strip()]
assert len(lines) >= 25, len(lines)
for e in lines:
    assert " to email at " in e["reason"], e' <<<"$ALL_AUDIT"
leaked=""
for addr in Analis.BI@bi.go.id analis.bi@bi.go.id tempfail-data+bi@bi.go.id reject@bi.go.id reject-data@bi.go.id \
    mitra@telkom.go.id walidata@dinkes.malutprov.go.id walidata.dua@dinkes.malutprov.go.id data@bi.go.id \
    belum@bi.go.id salah@bi.go.id mitra.telkom@gmail.com; do
    grep -qiF "$addr" <<<"$ALL_AUDIT" && leaked+="$addr "
done
same "no hook.delivery entry names a full address" "" "$leaked"
check "one allowed hook.confirm entry for each address confirmed (${#CONFIRMED[@]}), by its owner" python3 -c '
import json, subprocess, sys
out = subprocess.run([sys.argv[1], "audit", "search", "--action", "hook.confirm", "--json", "--profile", sys.argv[2]],
                     capture_output=True, text=True, check=True).stdout
entries = [json.loads(json.loads(l)["entry"]) for l in out.splitlines() if l.strip()]
allowed = sorted(e["resource"] for e in entries if e["decision"] == "allow")
assert allowed == sorted("hooks/" + h for h in sys.argv[3:]), (allowed, sys.argv[3:])
assert len(entries) > len(allowed), "the refused tries are not recorded"' "$SERAMBI" "$A" "${CONFIRMED[@]}"

# ---- Secrets and content: nowhere they should not be
"$SERAMBI" audit export -o "$WORK/export.jsonl" --profile "$A" 2>/dev/null
check "(the access log was exported to look)" test -s "$WORK/export.jsonl"
AUTH_B64=$(printf '\0%s\0%s' "$RELAY_USER" "$RELAY_PASSWORD" | base64 -w0)
WRONG_B64=$(printf '\0%s\0%s' "$RELAY_USER" "$WRONG_PASSWORD" | base64 -w0)
pw_places() { # the files among the arguments that hold either password, plain or as AUTH PLAIN
    grep -lF -e "$RELAY_PASSWORD" -e "$WRONG_PASSWORD" -e "$AUTH_B64" -e "$WRONG_B64" "$@" 2>/dev/null | tr '\n' ' '
}
same "the password is not in the access log" "" "$(pw_places "$WORK/export.jsonl")"
same "nor in the server's log" "" "$(pw_places "$WORK/gateway.log")"
same "nor in any relay's log or message (AUTH payloads are not logged)" "" \
    "$(pw_places "$M"/*.log "$M"/*/*.eml "$M"/*/*.json)"
deliveries_all=""
for h in bi temp reject rejectdata data salah; do
    deliveries_all+=$("$SERAMBI" hook deliveries "${HOOK[$h]}" --limit 500 --json --profile "$BI" 2>&1)
done
for h in walidata c2; do deliveries_all+=$("$SERAMBI" hook deliveries "${HOOK[$h]}" --limit 500 --json --profile "$C" 2>&1); done
for h in telkom gmail; do deliveries_all+=$("$SERAMBI" hook deliveries "${HOOK[$h]}" --limit 500 --json --profile "$TK" 2>&1); done
check "(the deliveries of every hook were read: $(grep -o '"event"' <<<"$deliveries_all" | wc -l))" \
    test "$(grep -o '"address.confirm"' <<<"$deliveries_all" | wc -l)" -eq 10
lacks "nor in any delivery's last_error" "$RELAY_PASSWORD" "$deliveries_all"
lacks "(the wrong one neither)" "$WRONG_PASSWORD" "$deliveries_all"
code_places() { # the files among the arguments that hold any code mailed, as written or typed
    local c forms=()
    for c in "${CODE[@]}"; do forms+=(-e "$c" -e "${c//-/}"); done
    grep -liF "${forms[@]}" "$@" 2>/dev/null | tr '\n' ' '
}
printf '%s' "$deliveries_all" >"$WORK/deliveries.json"
"$SERAMBI" hook list --json --profile "$ADMIN" >"$WORK/hooks.json" 2>&1
check "(${#CODE[@]} codes to look for; the relay has them)" test "$(code_places "$M"/main/*.eml | wc -w)" -ge 10
same "no code mailed is in the access log" "" "$(code_places "$WORK/export.jsonl")"
same "nor in the server's log" "" "$(code_places "$WORK/gateway.log")"
same "nor in hook deliveries --json, nor in hook list --json" "" "$(code_places "$WORK/deliveries.json" "$WORK/hooks.json")"
check "no email, on any relay, holds a pushed file's content" test -z "$(grep -rlF "$MARKER" "$M")"
finish
