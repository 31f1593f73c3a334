#!/usr/bin/env bash
# `make run`: a demo deployment under var/demo (created once), the gateway in the foreground,
# and the commands to push and pull with the generated profiles.
set -euo pipefail
SERAMBI=$(realpath "${SERAMBI_BIN:-build/cli/serambi}")
DEMO=${DEMO:-var/demo}
LISTEN=${DEMO_LISTEN:-127.0.0.1:8443}
mkdir -p "$DEMO"
DEMO=$(realpath "$DEMO")
ADMIN=$DEMO/profiles/admin

if [ ! -f "$DEMO/serambi.toml" ]; then
    "$SERAMBI" init "$DEMO" --listen "$LISTEN" --province "Maluku Utara (demo)"
fi
# A demo made by the first release has its interim policy, which the gateway no longer serves.
if grep -q '^version = 1' "$DEMO/policy.toml"; then
    echo "demo: replacing the first release's interim policy with policies/default.toml"
    cp "$(dirname "$0")/../policies/default.toml" "$DEMO/policy.toml"
fi
URL=$(sed -n 's/^gateway = "\(.*\)"/\1/p' "$ADMIN/profile.toml")

"$SERAMBI" serve --config "$DEMO/serambi.toml" &
GATEWAY=$!
trap 'kill $GATEWAY 2>/dev/null; wait $GATEWAY 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 100); do
    curl -s -o /dev/null --cacert "$ADMIN/ca.crt" --cert "$ADMIN/client.crt" --key "$ADMIN/client.key" "$URL/healthz" && break
    kill -0 $GATEWAY 2>/dev/null || { echo "the gateway did not start (see above)"; exit 1; }
    sleep 0.1
done

# Demo principals and datasets, made once.
add() { # ID ROLE NAME
    [ -f "$DEMO/profiles/$1/profile.toml" ] ||
        "$SERAMBI" principal add "$1" --role "$2" --name "$3" --out "$DEMO/profiles/$1" --profile "$ADMIN" >/dev/null
}
add dinkes-malut producer "Dinas Kesehatan Provinsi Maluku Utara"
add walidata custodian "Walidata Diskominfosan Maluku Utara"
add bi-malut partner "Bank Indonesia Perwakilan Maluku Utara"
WALIDATA=$DEMO/profiles/walidata
if ! "$SERAMBI" dataset list --profile "$WALIDATA" | grep -q 'dinkes-malut/imunisasi'; then
    "$SERAMBI" dataset create dinkes-malut/imunisasi --class terbatas --title "Cakupan imunisasi dasar" --profile "$WALIDATA" >/dev/null
    "$SERAMBI" dataset create dinkes-malut/faskes --class biasa --title "Fasilitas kesehatan" --profile "$WALIDATA" >/dev/null
fi

cat <<EOT

Serambi demo gateway: $URL  (deployment: $DEMO)
Profiles: $DEMO/profiles/{admin,dinkes-malut,walidata,bi-malut}

In another terminal:
  export PATH=$(dirname "$SERAMBI"):\$PATH
  printf 'kabupaten,cakupan\nhalmahera-utara,91.5\n' > imunisasi.csv
  serambi push dinkes-malut/imunisasi imunisasi.csv --profile $DEMO/profiles/dinkes-malut
  serambi pull PACKAGE_ID -o pulled.csv --profile $DEMO/profiles/walidata
  serambi verify pulled.csv --manifest pulled.csv.manifest.json --signature pulled.csv.manifest.p7s --ca $DEMO/pki/ca.crt
  serambi pull PACKAGE_ID -o x.csv --profile $DEMO/profiles/bi-malut     # refused (404): no MOU agreement yet
  serambi agreement add --partner bi-malut --datasets 'dinkes-malut/*' --max-class rahasia \\
      --purpose "kajian ekonomi" --valid-from $(date -u +%Y-%m-%d) --valid-until $(date -u -d '+1 year' +%Y-%m-%d) \\
      --profile $DEMO/profiles/walidata
  serambi pull PACKAGE_ID -o x.csv --profile $DEMO/profiles/bi-malut     # now allowed

The web portal, in a browser on this machine:
  serambi profile export-p12 --profile $DEMO/profiles/dinkes-malut --out dinkes-malut.p12
  import dinkes-malut.p12 and $DEMO/pki/ca.crt into the browser (docs/user-guide.md, section 11),
  then open $URL/

Press Ctrl-C to stop the gateway.
EOT
wait $GATEWAY
