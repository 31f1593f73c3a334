# Interoperability: the reference tus client (tus-js-client, from the npm registry, run with
# Node) uploads through the gateway in parts, is stopped midway and resumes, and what it sent is
# a package that pulls intact. Nobody here wrote that client.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are needed (make deps installs them)"; exit 1; }
TUS=$WORK/tus
mkdir -p "$TUS"
cp "$(dirname "$0")"/tus_client/package.json "$(dirname "$0")"/tus_client/package-lock.json "$(dirname "$0")"/tus_client/upload.js "$TUS/"
(cd "$TUS" && npm ci --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1) || { cat "$WORK/npm.log"; exit 1; }
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal walidata custodian
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title Gizi --profile "$WORK/walidata" >/dev/null
head -c $((5 * 1024 * 1024 + 321)) /dev/urandom >"$WORK/laporan.csv"

url=$(node "$TUS/upload.js" "$URL" "$P/client.crt" "$P/client.key" "$P/ca.crt" "$WORK/laporan.csv" dinkes-malut/gizi \
    1048576 2500000 2>"$WORK/node.err")
same "tus-js-client uploads in 1 MiB parts, stops and resumes" 0 "$?"
[ -s "$WORK/node.err" ] && cat "$WORK/node.err"
contains "and was given the upload's URL" "/v1/uploads/" "$url"
patches=$(grep -c "PATCH ${url#"$URL"} 204" "$WORK/gateway.log")
check "it sent several PATCH requests ($patches)" test "$patches" -ge 5
heads=$(grep -c "HEAD ${url#"$URL"} 200" "$WORK/gateway.log")
check "and asked for the offset when it resumed ($heads)" test "$heads" -ge 1
pkg=$(api "$P" -s -I -H "Tus-Resumable: 1.0.0" "$url" | tr -d '\r' | awk 'tolower($1)=="serambi-package-id:" {print $2}')
same "the upload became a package" 32 "${#pkg}"
api "$P" -s -o "$WORK/pulled" "$URL/v1/packages/$pkg"
same "which pulls intact" "$(sha256sum <"$WORK/laporan.csv" | cut -d' ' -f1)" "$(sha256sum <"$WORK/pulled" | cut -d' ' -f1)"
same "with the name and type the client's metadata gave" "laporan.csv text/csv" \
    "$(api "$P" -s "$URL/v1/packages/$pkg/manifest" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["filename"], m["media_type"])')"
finish
