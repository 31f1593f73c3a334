# The portal in a real browser: Debian's headless Chromium with each user's certificate imported
# from `serambi profile export-p12`, against the real gateway over mutual TLS. The steps are in
# portal_browser.py; this script sets up the deployment the way an operator would.
source "$(dirname "$0")/lib.sh"
for tool in chromium chromedriver certutil pk12util; do
    command -v "$tool" >/dev/null || { echo "FAIL - $tool is missing: run make deps"; exit 1; }
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { echo "FAIL - python3-selenium is missing: run make deps"; exit 1; }

init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal bi-malut partner
add_principal walidata custodian
add_principal inspektorat auditor
"$SERAMBI" dataset create dinkes-malut/gizi --class rahasia --title '<script>alert("judul")</script> Status gizi' \
    --profile "$ADMIN" >/dev/null
"$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title "Fasilitas kesehatan" --profile "$ADMIN" >/dev/null
"$SERAMBI" dataset create dinkes-malut/sandi --class sangat-rahasia --title "Sandi" --profile "$ADMIN" >/dev/null
"$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/*' --max-class rahasia --purpose "kajian ekonomi" \
    --valid-from "$(date -u -d yesterday +%F)" --valid-until "$(date -u -d '+30 days' +%F)" --profile "$WORK/walidata" >/dev/null ||
    { echo "FAIL - cannot add the agreement"; exit 1; }
printf 'kata-sandi-uji\n' > "$WORK/p12.pass"
chmod 600 "$WORK/p12.pass"
for who in dinkes-malut bi-malut walidata inspektorat; do
    "$SERAMBI" profile export-p12 --profile "$WORK/$who" --out "$WORK/$who.p12" --password-file "$WORK/p12.pass" 2>/dev/null ||
        { echo "FAIL - export-p12 for $who"; exit 1; }
done
"$SERAMBI" profile export-p12 --profile "$ADMIN" --out "$WORK/admin.p12" --password-file "$WORK/p12.pass" 2>/dev/null
"$SERAMBI" audit key --profile "$WORK/inspektorat" > "$WORK/log.vkey" ||
    { echo "FAIL - the auditor cannot fetch the verifier key"; exit 1; }
grep -q '+' "$WORK/log.vkey" || { echo "FAIL - the verifier key is empty: $(cat "$WORK/log.vkey")"; exit 1; }
# A witness cosigns the log, so that the auditor's page has cosignatures to check.
WPORT=$(free_port)
"$SERAMBI" witness init "$WORK/witness" --name inspektorat.example.go.id/witness --listen "127.0.0.1:$WPORT" \
    --log-key "$WORK/log.vkey" >/dev/null || { echo "FAIL - witness init"; exit 1; }
"$SERAMBI" witness serve --config "$WORK/witness/witness.toml" >>"$WORK/witness.log" 2>&1 &
W_PID=$!
trap 'kill $W_PID 2>/dev/null; cleanup' EXIT
stop_gateway
printf '\n[[witness]]\nurl = "http://127.0.0.1:%s"\nkey = "%s"\n' "$WPORT" "$(cat "$WORK/witness/witness.vkey")" >> "$DEP/serambi.toml"
start_gateway

export PORTAL_URL=$URL PORTAL_WORK=$WORK PORTAL_CA=$ADMIN/ca.crt PORTAL_PASSWORD=kata-sandi-uji SERAMBI
export PORTAL_SCREENSHOTS=${PORTAL_SCREENSHOTS:-$PWD/portal-screenshots}
/usr/bin/python3 "$(dirname "$0")/portal_browser.py"
rc=$?
same "the browser scenarios pass" 0 "$rc"
finish
