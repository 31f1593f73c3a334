# The portal over plain HTTP (curl): its files, its headers, and the cross-site checks that keep a
# browser's client certificate from being used by another site.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal auditor auditor
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title "Fasilitas kesehatan" --profile "$ADMIN" >/dev/null
echo "nama,alamat" > "$WORK/faskes.csv"
PKG=$("$SERAMBI" push dinkes-malut/faskes "$WORK/faskes.csv" --profile "$P" | json_field package_id)

# ---- The start page and its files
page=$(api "$P" -D "$WORK/page.h" "$URL/")
same "the start page answers 200" 200 "$(head -1 "$WORK/page.h" | cut -d' ' -f2)"
contains "it is HTML" "text/html" "$(cat "$WORK/page.h")"
contains "it names the deployment's time zone" 'content="Asia/Jayapura"' "$page"
contains "it allows no inline script" "script-src 'self';" "$(grep -i '^content-security-policy' "$WORK/page.h")"
contains "and no framing" "frame-ancestors 'none'" "$(grep -i '^content-security-policy' "$WORK/page.h")"
contains "it is revalidated, not cached blindly" "no-cache" "$(grep -i '^cache-control' "$WORK/page.h")"
VERSION=$(echo "$page" | sed -n 's|.*/assets/\([0-9a-f]*\)/app.js.*|\1|p')
check "the page names its assets' version" test -n "$VERSION"
for f in app.js api.js i18n.js format.js tlog.js page_home.js page_upload.js page_packages.js page_audit.js style.css icon.svg; do
    code=$(api "$P" -o "$WORK/asset" -D "$WORK/asset.h" -w '%{http_code}' "$URL/assets/$VERSION/$f")
    same "asset $f is served" 200 "$code"
done
contains "assets are cached for a year" "max-age=31536000, immutable" "$(grep -i '^cache-control' "$WORK/asset.h")"
for f in app.js page_audit.js; do
    api "$P" "$URL/assets/$VERSION/$f" > "$WORK/$f"
    if cmp -s "$WORK/$f" "$(dirname "$0")/../../web/$f"; then pass "$f is the file in web/"; else fail "$f is the file in web/"; fi
done
same "an asset of another build is 404" 404 "$(status "$P" "$URL/assets/0000000000000000/app.js")"
same "no file outside the portal's folder" 404 "$(status "$P" "$URL/assets/$VERSION/serambi.toml")"
same "index.html only through /" 404 "$(status "$P" "$URL/assets/$VERSION/index.html")"
same "a path with dots is refused" 400 "$(status "$P" --path-as-is "$URL/assets/$VERSION/../app.js")"

# ---- Headers on every answer, the API's included
api "$P" -D "$WORK/api.h" -o /dev/null "$URL/v1/whoami"
for h in "X-Frame-Options: DENY" "X-Content-Type-Options: nosniff" "Strict-Transport-Security: max-age" \
         "Cache-Control: no-store" "Cross-Origin-Resource-Policy: same-origin" "frame-ancestors 'none'"; do
    contains "an API answer carries $h" "$h" "$(cat "$WORK/api.h")"
done

# ---- Cross-site requests change nothing and are recorded as refused
before=$(api "$ADMIN" "$URL/v1/datasets" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
code=$(status "$ADMIN" -X POST -H 'Origin: https://evil.example' -H 'Content-Type: text/plain' \
       -d '{"id":"admin/x","classification":"biasa","title":"x"}' "$URL/v1/datasets")
same "a POST with another site's Origin is refused" 403 "$code"
contains "and says why" "another origin" "$(cat "$WORK/last_body")"
code=$(status "$ADMIN" -X POST -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: no-cors' \
       -d '{"id":"admin/y","classification":"biasa","title":"y"}' "$URL/v1/datasets")
same "a no-cors fetch from another site is refused" 403 "$code"
code=$(status "$ADMIN" -X POST -H "Origin: null" -d '{"id":"admin/z","classification":"biasa","title":"z"}' "$URL/v1/datasets")
same "an opaque (null) Origin is refused" 403 "$code"
code=$(status "$ADMIN" -X POST -H "Origin: https://127.0.0.1:$PORT" -H 'Sec-Fetch-Site: same-origin' \
       -H 'Content-Type: application/json' -d '{"id":"admin/w","classification":"biasa","title":"w"}' "$URL/v1/datasets")
same "a browser's own-origin change without the portal's header is refused" 403 "$code"
contains "and says which header is missing" "Serambi-Client" "$(cat "$WORK/last_body")"
after=$(api "$ADMIN" "$URL/v1/datasets" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
same "no refused request created a dataset" "$before" "$after"
code=$(status "$ADMIN" -X POST -H "Origin: https://127.0.0.1:$PORT" -H 'Sec-Fetch-Site: same-origin' \
       -H 'Serambi-Client: portal' -H 'Content-Type: application/json' \
       -d '{"id":"admin/portal","classification":"biasa","title":"from the portal"}' "$URL/v1/datasets")
same "the portal's own request is served" 201 "$code"
code=$(status "$P" -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: no-cors' -H 'Sec-Fetch-Dest: image' "$URL/v1/packages/$PKG")
same "an <img> on another site cannot pull a package (it would spend a download)" 403 "$code"
code=$(status "$P" -H 'Sec-Fetch-Site: same-site' "$URL/v1/whoami")
same "nor can a sibling site read the API" 403 "$code"
same "a link from another site may open the portal itself" 200 \
    "$(status "$P" -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Dest: document' "$URL/")"
same "but not into another site's frame" 403 \
    "$(status "$P" -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Dest: iframe' "$URL/")"
same "but another site cannot load its scripts" 403 \
    "$(status "$P" -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: cors' -H 'Sec-Fetch-Dest: script' "$URL/assets/$VERSION/app.js")"
same "a link to a package opened from outside any page (an e-mail) spends nothing" 403 \
    "$(status "$P" -H 'Sec-Fetch-Site: none' -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Dest: document' "$URL/v1/packages/$PKG")"
same "while a bookmark opens the portal" 200 \
    "$(status "$P" -H 'Sec-Fetch-Site: none' -H 'Sec-Fetch-Mode: navigate' -H 'Sec-Fetch-Dest: document' "$URL/")"
same "a same-origin download is served" 200 \
    "$(status "$P" -H 'Sec-Fetch-Site: same-origin' -H 'Sec-Fetch-Mode: navigate' "$URL/v1/packages/$PKG")"
same "the CLI (no browser headers) is unaffected" 200 "$(status "$P" "$URL/v1/packages/$PKG")"
refusals=$(api "$WORK/auditor" "$URL/v1/audit/entries?decision=deny" | grep -c 'cross-site request refused')
same "each refused cross-site request is in the access log" 9 "$refusals"
contains "naming the principal whose browser was used" '"principal":"admin"' \
    "$(api "$WORK/auditor" "$URL/v1/audit/entries?decision=deny&principal=admin")"

# ---- The filtered, indexed listing the portal's auditor page reads
line=$(api "$WORK/auditor" "$URL/v1/audit/entries?indexed=true&package=$PKG&action=package.push")
index=$(echo "$line" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["index"])')
entry=$(echo "$line" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["entry"])')
same "the indexed line carries the entry exactly as at its index" "$entry" \
    "$(api "$WORK/auditor" "$URL/v1/audit/entries?start=$index&end=$((index + 1))")"
same "indexed is true or false" 400 "$(status "$WORK/auditor" "$URL/v1/audit/entries?indexed=yes")"

# ---- File names a browser sends (RFC 8187)
echo "a,b" > "$WORK/gizi.csv"
name='Laporan gizi – Ternate (é) & 100%.csv'
enc=$(python3 -c 'import sys,urllib.parse; print("UTF-8'"''"'" + urllib.parse.quote(sys.argv[1], safe=""))' "$name")
receipt=$(api "$P" -X POST -H "Serambi-Filename*: $enc" --data-binary @"$WORK/gizi.csv" "$URL/v1/datasets/dinkes-malut/faskes/packages")
same "a UTF-8 name sent percent-encoded is stored as itself" "$name" "$(echo "$receipt" | json_field filename)"
same "a malformed encoding is refused" 400 "$(status "$P" -X POST -H "Serambi-Filename*: UTF-8''%zz.csv" \
    --data-binary @"$WORK/gizi.csv" "$URL/v1/datasets/dinkes-malut/faskes/packages")"
same "an encoded path separator is refused like a plain one" 400 "$(status "$P" -X POST \
    -H "Serambi-Filename*: UTF-8''..%2Fserambi.toml" --data-binary @"$WORK/gizi.csv" "$URL/v1/datasets/dinkes-malut/faskes/packages")"
same "an encoded markup name is refused too" 400 "$(status "$P" -X POST \
    -H "Serambi-Filename*: UTF-8''%3Cimg%20src%3Dx%3E.csv" --data-binary @"$WORK/gizi.csv" "$URL/v1/datasets/dinkes-malut/faskes/packages")"

# ---- export-p12 refuses what would weaken the file
printf 'abc\0defghijk\n' > "$WORK/nul.pass"; chmod 600 "$WORK/nul.pass"
refuse_saying "a password with a NUL byte is refused" "NUL" \
    "$SERAMBI" profile export-p12 --profile "$P" --out "$WORK/nul.p12" --password-file "$WORK/nul.pass"
printf 'pendek\n' > "$WORK/short.pass"; chmod 600 "$WORK/short.pass"
refuse_saying "a password under 8 characters is refused" "at least 8" \
    "$SERAMBI" profile export-p12 --profile "$P" --out "$WORK/short.p12" --password-file "$WORK/short.pass"
printf 'kata-sandi-panjang\n' > "$WORK/open.pass"; chmod 644 "$WORK/open.pass"
refuse_saying "a password file others can read is refused" "chmod 600" \
    "$SERAMBI" profile export-p12 --profile "$P" --out "$WORK/open.p12" --password-file "$WORK/open.pass"
chmod 600 "$WORK/open.pass"
check "the export succeeds with a good password" \
    "$SERAMBI" profile export-p12 --profile "$P" --out "$WORK/good.p12" --password-file "$WORK/open.pass"
same "it is written 0600" 600 "$(stat -c %a "$WORK/good.p12")"
check "openssl reads it with that password (MAC and key)" \
    openssl pkcs12 -in "$WORK/good.p12" -passin pass:kata-sandi-panjang -nodes -out "$WORK/good.pem"
contains "it holds the unit's key and certificate" "PRIVATE KEY" "$(cat "$WORK/good.pem")"
refuse "a wrong password does not open it" openssl pkcs12 -in "$WORK/good.p12" -passin pass:salah -nodes -out /dev/null
refuse_saying "an existing file is never overwritten" "already exists" \
    "$SERAMBI" profile export-p12 --profile "$P" --out "$WORK/good.p12" --password-file "$WORK/open.pass"
check "the legacy form for old Windows reads too" \
    "$SERAMBI" profile export-p12 --profile "$P" --out "$WORK/legacy.p12" --password-file "$WORK/open.pass" --legacy
contains "with 3DES" "TripleDES" "$(openssl pkcs12 -in "$WORK/legacy.p12" -passin pass:kata-sandi-panjang -info -noout -legacy 2>&1)"

# ---- Configuration
stop_gateway
set_config time_zone '"Asia/Jaypura"'
out=$("$SERAMBI" serve --config "$DEP/serambi.toml" 2>&1); rc=$?
check "a misspelt time zone stops the start" test "$rc" -ne 0
contains "with a message that names the key and examples" "portal.time_zone" "$out"
set_config time_zone '"Asia/Makassar"'
set_config enabled false
start_gateway
same "with the portal turned off, / is 404" 404 "$(status "$P" "$URL/")"
same "and the API still answers" 200 "$(status "$P" "$URL/v1/whoami")"
finish
