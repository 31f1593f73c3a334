# The classification policy through the real server: MOU agreements, release approvals, the
# two-person rule, every kind of denial, and an agreement expiring without a restart.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal walidata custodian
add_principal walidata-dua custodian
add_principal bi-malut partner
add_principal telkom partner
add_principal inspektorat auditor
C=$WORK/walidata
C2=$WORK/walidata-dua
BI=$WORK/bi-malut
P=$WORK/dinkes-malut
for spec in imunisasi:terbatas gizi:rahasia rujukan:sangat-rahasia; do
    "$SERAMBI" dataset create "dinkes-malut/${spec%%:*}" --class "${spec#*:}" --title "${spec%%:*}" --profile "$C" >/dev/null
done
"$SERAMBI" dataset create dinkes-malut/stunting --class terbatas --title stunting --profile "$C" >/dev/null
echo "kabupaten,jumlah" > "$WORK/data.csv"
push() { "$SERAMBI" push "$@" -q --profile "$P" | json_field package_id; }
TERBATAS=$(push dinkes-malut/imunisasi "$WORK/data.csv")
RAHASIA=$(push dinkes-malut/gizi "$WORK/data.csv")
OTHER=$(push dinkes-malut/stunting "$WORK/data.csv")
pull() { status "$1" "$URL/v1/packages/$2"; }
reason() { api "$C" "$URL/v1/policy/explain?principal=$1&package=$2" | json_field reason; }
today() { date -u -d "$1" +%Y-%m-%d; }

# ---- Agreements
same "without an agreement a partner gets 404 for terbatas" 404 "$(pull "$BI" "$TERBATAS")"
contains "and the policy says why" "no agreement" "$(reason bi-malut "$TERBATAS")"
same "a partner may not register agreements (404)" 404 "$(status "$BI" -X POST -d '{}' "$URL/v1/agreements")"
same "nor may a producer" 404 "$(status "$P" -X POST -d '{}' "$URL/v1/agreements")"
refuse_saying "an agreement for a non-partner is refused" "not a registered principal with the partner role" \
    "$SERAMBI" agreement add --partner dinkes-malut --datasets 'dinkes-malut/*' --max-class terbatas --purpose x \
    --valid-from "$(today yesterday)" --valid-until "$(today '+30 days')" --profile "$C"
refuse_saying "a bad dataset pattern is refused" "is not OWNER/NAME" \
    "$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-*/x' --max-class terbatas --purpose x \
    --valid-from "$(today yesterday)" --valid-until "$(today '+30 days')" --profile "$C"
refuse_saying "an agreement that ends before it starts is refused" "valid_until must be after valid_from" \
    "$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/*' --max-class terbatas --purpose x \
    --valid-from "$(today '+3 days')" --valid-until "$(today yesterday)" --profile "$C"
refuse_saying "an impossible date is refused" "a time is YYYY-MM-DD" \
    "$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/*' --max-class terbatas --purpose x \
    --valid-from 2026-02-30 --valid-until 2027-01-01 --profile "$C"
echo "MOU Dinkes Malut - BI Malut" > "$WORK/mou.pdf"
mou=$("$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/imunisasi,dinkes-malut/gizi,dinkes-malut/rujukan' \
      --max-class rahasia --purpose "kajian ekonomi regional" --valid-from "$(today yesterday)" \
      --valid-until "$(today '+30 days')" --document "$WORK/mou.pdf" --profile "$C")
MOU=$(echo "$mou" | json_field id)
contains "the agreement is printed with its id" "mou-" "$MOU"
same "the MOU document's digest is recorded" "$(sha256sum "$WORK/mou.pdf" | cut -d' ' -f1)" "$(echo "$mou" | json_field document_sha256)"
same "it is in force" "in force" "$(echo "$mou" | json_field state)"
same "the partner now reads the terbatas package" 200 "$(pull "$BI" "$TERBATAS")"
same "but not a dataset the agreement does not name" 404 "$(pull "$BI" "$OTHER")"
contains "and the policy says so" "does not cover dataset dinkes-malut/stunting" "$(reason bi-malut "$OTHER")"
same "another partner still gets 404" 404 "$(pull "$WORK/telkom" "$TERBATAS")"
listing=$(api "$BI" "$URL/v1/datasets")
contains "the partner's listing shows the covered dataset" "dinkes-malut/imunisasi" "$listing"
if [[ "$listing" == *stunting* ]]; then fail "the listing hides datasets the agreement does not cover"; else pass "the listing hides datasets the agreement does not cover"; fi
same "a partner sees its own agreement" "$MOU" "$(api "$BI" "$URL/v1/agreements" | python3 -c 'import json,sys; print(",".join(a["id"] for a in json.load(sys.stdin)))')"
same "another partner sees none" "" "$(api "$WORK/telkom" "$URL/v1/agreements" | python3 -c 'import json,sys; print(",".join(a["id"] for a in json.load(sys.stdin)))')"
same "nor can it fetch it by id (404)" 404 "$(status "$WORK/telkom" "$URL/v1/agreements/$MOU")"

# ---- Approvals (rahasia): one custodian, per package and partner
same "rahasia needs an approval even with an agreement (404)" 404 "$(pull "$BI" "$RAHASIA")"
contains "the reason names the missing approval" "needs a custodian's approval" "$(reason bi-malut "$RAHASIA")"
same "the rahasia package is listed for the partner only as awaiting release" request \
    "$(api "$BI" "$URL/v1/datasets/dinkes-malut/gizi/packages" | python3 -c 'import json,sys; print(",".join(p["access"] for p in json.load(sys.stdin)))')"
refuse_saying "a custodian cannot approve a release to their own organisation" "their own organisation" \
    "$SERAMBI" approve "$RAHASIA" --for walidata --profile "$C"
refuse_saying "an approval that would release nothing is refused" "would release nothing" \
    "$SERAMBI" approve "$RAHASIA" --for telkom --profile "$C"
refuse_saying "a terbatas package needs no approval" "needs no approval" "$SERAMBI" approve "$TERBATAS" --for bi-malut --profile "$C"
same "a producer may not approve (404)" 404 "$(status "$P" -X POST -d '{"partner":"bi-malut"}' "$URL/v1/packages/$RAHASIA/approvals")"
apv=$("$SERAMBI" approve "$RAHASIA" --for bi-malut --max-downloads 2 --profile "$C")
APV=$(echo "$apv" | json_field id)
contains "the approval is printed with its id" "apv-" "$APV"
same "the partner now reads the rahasia package" 200 "$(pull "$BI" "$RAHASIA")"
same "it is listed for the partner" 1 "$(package_count "$BI" dinkes-malut/gizi)"
check "the CLI pulls it, decrypts it with the profile's age.key and verifies it" "$SERAMBI" pull "$RAHASIA" -o "$WORK/gizi.csv" -q --profile "$BI"
check "to the producer's plaintext" cmp "$WORK/gizi.csv" "$WORK/data.csv"
same "rahasia travels age-encrypted to the reader (obligation encrypt-to-recipient)" "application/age" \
    "$(api "$P" -o /dev/null -w '%{content_type}' "$URL/v1/packages/$RAHASIA")"
same "the manifest says how the payload will come" "age" "$(api "$P" -D - -o /dev/null "$URL/v1/packages/$RAHASIA/manifest" | tr -d '\r' | sed -n 's/^serambi-delivery: //Ip')"
same "the third download is over the cap, and the partner is told so (403)" 403 "$(pull "$BI" "$RAHASIA")"
contains "in its own answer" "used up" "$(cat "$WORK/last_body")"
contains "and the reason says the downloads are used up" "used up" "$(reason bi-malut "$RAHASIA")"
same "the approval shows its downloads" 2 "$(api "$C" "$URL/v1/approvals?package=$RAHASIA" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["downloads"])')"
APV2=$("$SERAMBI" approve "$RAHASIA" --for bi-malut --profile "$C2" | json_field id)
same "a fresh approval releases it again" 200 "$(pull "$BI" "$RAHASIA")"
check "a custodian withdraws it" "$SERAMBI" approvals withdraw "$APV2" --profile "$C"
same "a withdrawn approval stops the next download (403)" 403 "$(pull "$BI" "$RAHASIA")"
contains "saying it was withdrawn" "withdrawn" "$(cat "$WORK/last_body")"
refuse_saying "withdrawing twice is refused" "already withdrawn" "$SERAMBI" approvals withdraw "$APV2" --profile "$C"
# Ten seconds of life: enough for one pull on a loaded machine (sanitizers, a busy CI runner).
NEAR=$(date -u -d '+10 sec' +%s)
APV3=$("$SERAMBI" approve "$RAHASIA" --for bi-malut --expires "$(date -u -d "@$NEAR" +%Y-%m-%dT%H:%M:%SZ)" --profile "$C2" | json_field id)
same "an approval with a near expiry releases it" 200 "$(pull "$BI" "$RAHASIA")"
while [ "$(date -u +%s)" -le "$NEAR" ]; do sleep 1; done
same "once it expires, the next download is refused without a restart (403)" 403 "$(pull "$BI" "$RAHASIA")"
contains "saying it expired" "expired" "$(cat "$WORK/last_body")"
contains "and the reason says it expired" "1 expired" "$(reason bi-malut "$RAHASIA")"

# ---- sangat-rahasia: named recipients, two different custodians
refuse_saying "a sangat-rahasia push must name its recipients" "send Serambi-Recipients" \
    "$SERAMBI" push dinkes-malut/rujukan "$WORK/data.csv" -q --profile "$P"
refuse_saying "recipients must be registered principals with an age recipient" "ghost has no age recipient" \
    "$SERAMBI" push dinkes-malut/rujukan "$WORK/data.csv" --to ghost -q --profile "$P"
age -r "$("$SERAMBI" recipient show bi-malut --profile "$P")" -o "$WORK/sealed.age" "$WORK/data.csv"
same "the gateway refuses recipients it does not know" 400 "$(status "$P" -H 'Serambi-Filename: x.age' -H 'Content-Type: application/age' -H 'Serambi-Recipients: ghost' --data-binary @"$WORK/sealed.age" "$URL/v1/datasets/dinkes-malut/rujukan/packages")"
same "and a sangat-rahasia payload that is not an age file, whatever it claims" 400 "$(status "$P" -H 'Serambi-Filename: x.age' -H 'Content-Type: application/age' -H 'Serambi-Recipients: bi-malut' --data-binary @"$WORK/data.csv" "$URL/v1/datasets/dinkes-malut/rujukan/packages")"
same "or one sent as plaintext" 400 "$(status "$P" -H 'Serambi-Filename: x.csv' -H 'Content-Type: text/csv' -H 'Serambi-Recipients: bi-malut' --data-binary @"$WORK/data.csv" "$URL/v1/datasets/dinkes-malut/rujukan/packages")"
refuse_saying "recipients are refused where the policy does not read by name" "applies only to levels" \
    "$SERAMBI" push dinkes-malut/imunisasi "$WORK/data.csv" --to bi-malut -q --profile "$P"
SECRET=$(push dinkes-malut/rujukan "$WORK/data.csv" --to bi-malut)
contains "the manifest records the recipients" '"recipients":["bi-malut"]' "$(api "$P" "$URL/v1/packages/$SECRET/manifest")"
same "the producer reads its own package" 200 "$(pull "$P" "$SECRET")"
same "a custodian who is not named does not (404)" 404 "$(pull "$C" "$SECRET")"
same "the named partner needs approvals first (404)" 404 "$(pull "$BI" "$SECRET")"
"$SERAMBI" approve "$SECRET" --for bi-malut --profile "$C" >/dev/null
same "one approval is not enough (two-person rule)" 404 "$(pull "$BI" "$SECRET")"
refuse_saying "the same custodian cannot approve twice" "already approved" "$SERAMBI" approve "$SECRET" --for bi-malut --profile "$C"
contains "the reason counts the approvals" "needs 2 approvals from different custodians" "$(reason bi-malut "$SECRET")"
refuse_saying "a partner not named gets nothing from an approval" "would release nothing" \
    "$SERAMBI" approve "$SECRET" --for telkom --profile "$C2"
"$SERAMBI" approve "$SECRET" --for bi-malut --profile "$C2" >/dev/null
same "two approvals from different custodians release it" 200 "$(pull "$BI" "$SECRET")"

# ---- sangat-rahasia is age-encrypted on the producer's machine; the gateway holds only ciphertext
check "the named partner pulls it and decrypts it with its own age.key" \
    "$SERAMBI" pull "$SECRET" -o "$WORK/secret.age" --decrypt-to "$WORK/secret.csv" -q --profile "$BI"
check "and gets the producer's plaintext" cmp "$WORK/secret.csv" "$WORK/data.csv"
check "the stock age tool opens it too" cmp <(age -d -i "$BI/age.key" "$WORK/secret.age") "$WORK/data.csv"
check "the producer can open its own package" cmp <(age -d -i "$P/age.key" "$WORK/secret.age") "$WORK/data.csv"
contains "what the gateway serves is an age file" "age-encryption.org/v1" "$(head -c 22 "$WORK/secret.age")"
contains "its manifest signs the ciphertext and says so" '"media_type":"application/age"' "$(cat "$WORK/secret.age.manifest.json")"
"$SERAMBI" age keygen -o "$WORK/gateway-side.key" 2>/dev/null
refuse_saying "an identity that is not a recipient's cannot open it" "no identity matches" \
    "$SERAMBI" age decrypt -i "$WORK/gateway-side.key" -o "$WORK/nope" "$WORK/secret.age"
check "no key the gateway holds is an age identity (it has none to try)" test -z "$(grep -rl 'AGE-SECRET-KEY' "$DEP" --include='*.key' --include='*.toml' 2>/dev/null)"
STOCK=$("$SERAMBI" push dinkes-malut/rujukan "$WORK/sealed.age" --to bi-malut -q --profile "$P" | json_field package_id)
"$SERAMBI" approve "$STOCK" --for bi-malut --profile "$C" >/dev/null
"$SERAMBI" approve "$STOCK" --for bi-malut --profile "$C2" >/dev/null
check "a file made by the stock age tool is pushed as it is and pulled back" \
    "$SERAMBI" pull "$STOCK" -o "$WORK/stock.age" --decrypt-to "$WORK/stock.csv" -q --profile "$BI"
check "and decrypts to the original" cmp "$WORK/stock.csv" "$WORK/data.csv"
# Rotation: the partner replaces its recipient; packages pushed afterwards are for the new one.
"$SERAMBI" age keygen -o "$WORK/bi-new.key" 2>"$WORK/bi-new.pub"
check "a partner replaces its own recipient" "$SERAMBI" recipient set "$(grep -o 'age1[a-z0-9]*' "$WORK/bi-new.pub")" --profile "$BI"
same "another principal may not replace it (404)" 404 "$(status "$P" -d '{"recipient":"'"$(grep -o 'age1[a-z0-9]*' "$WORK/bi-new.pub")"'"}' "$URL/v1/principals/bi-malut/recipient")"
same "an admin may not replace it either (404): nobody but bi-malut chooses whom its packages are sealed to" 404 "$(status "$ADMIN" -d '{"recipient":"'"$(grep -o 'age1[a-z0-9]*' "$WORK/bi-new.pub")"'"}' "$URL/v1/principals/bi-malut/recipient")"
refuse_saying "a producer who pinned the old recipient is warned that it changed" "changed from" \
    "$SERAMBI" push dinkes-malut/rujukan "$WORK/data.csv" --to bi-malut -q --profile "$P"
ROTATED=$(push dinkes-malut/rujukan "$WORK/data.csv" --to bi-malut --accept-new-recipients)
"$SERAMBI" approve "$ROTATED" --for bi-malut --profile "$C" >/dev/null
"$SERAMBI" approve "$ROTATED" --for bi-malut --profile "$C2" >/dev/null
"$SERAMBI" pull "$ROTATED" -o "$WORK/rotated.age" -q --profile "$BI" >/dev/null 2>&1
check "the new identity opens what was pushed after the rotation" cmp <(age -d -i "$WORK/bi-new.key" "$WORK/rotated.age") "$WORK/data.csv"
refuse "the old one does not" age -d -i "$BI/age.key" -o "$WORK/old-open" "$WORK/rotated.age"

# ---- Revocation and expiry take effect at the next request
check "a custodian revokes the agreement" "$SERAMBI" agreement revoke "$MOU" --reason "MOU diakhiri" --profile "$C"
same "the partner is refused at the next request" 404 "$(pull "$BI" "$TERBATAS")"
contains "the reason names the revocation" "was revoked" "$(reason bi-malut "$TERBATAS")"
same "its approvals no longer help either" 403 "$(pull "$BI" "$RAHASIA")"
same "the revoked agreement shows its state" revoked "$(api "$C" "$URL/v1/agreements/$MOU" | json_field state)"
refuse_saying "revoking twice is refused" "already revoked" "$SERAMBI" agreement revoke "$MOU" --reason again --profile "$C"
"$SERAMBI" agreement add --partner telkom --datasets 'dinkes-malut/*' --max-class biasa --purpose x \
    --valid-from "$(today yesterday)" --valid-until "$(today '+30 days')" --profile "$C" >/dev/null
same "an agreement below the package's level does not reach it" 404 "$(pull "$WORK/telkom" "$TERBATAS")"
contains "the reason names the ceiling" "covers data up to biasa" "$(reason telkom "$TERBATAS")"
"$SERAMBI" agreement add --partner telkom --datasets 'dinkes-malut/*' --max-class terbatas --purpose x \
    --valid-from "$(today '+10 days')" --valid-until "$(today '+30 days')" --profile "$C" >/dev/null
same "an agreement not yet in force does not reach it" 404 "$(pull "$WORK/telkom" "$TERBATAS")"
# Ten seconds of life, as for the near-expiry approval above.
SHORT=$(date -u -d '+10 sec' +%s)
"$SERAMBI" agreement add --partner telkom --datasets 'dinkes-malut/imunisasi' --max-class terbatas --purpose x \
    --valid-from "$(today yesterday)" --valid-until "$(date -u -d "@$SHORT" +%Y-%m-%dT%H:%M:%SZ)" --profile "$C" >/dev/null
same "a short agreement grants access" 200 "$(pull "$WORK/telkom" "$TERBATAS")"
while [ "$(date -u +%s)" -le "$SHORT" ]; do sleep 1; done
same "and stops it when it expires, without a restart" 404 "$(pull "$WORK/telkom" "$TERBATAS")"
contains "the reason says it expired" "has expired" "$(reason telkom "$TERBATAS")"

# ---- The policy's download cap is the default and the ceiling of every approval
stop_gateway
sed -i 's/^approval_days = 7$/approval_days = 7\nmax_downloads = 1/' "$DEP/policy.toml"
check "a policy with a download cap passes policy check" "$SERAMBI" policy check "$DEP/policy.toml"
start_gateway
"$SERAMBI" agreement add --partner telkom --datasets 'dinkes-malut/gizi' --max-class rahasia --purpose x \
    --valid-from "$(today yesterday)" --valid-until "$(today '+30 days')" --profile "$C" >/dev/null
refuse_saying "an approval may not allow more downloads than the policy" "max_downloads must be from 1 to 1" \
    "$SERAMBI" approve "$RAHASIA" --for telkom --max-downloads 5 --profile "$C"
refuse_saying "nor lift the policy's cap" "max_downloads must be from 1 to 1" \
    "$SERAMBI" approve "$RAHASIA" --for telkom --max-downloads 0 --profile "$C"
same "without a cap of its own, an approval takes the policy's" 1 "$("$SERAMBI" approve "$RAHASIA" --for telkom --profile "$C" | json_field max_downloads)"
# The age delivery is the same file at every request, so a cut download resumes with a Range,
# and the cap counts the two parts as the one download they are.
same "a Range on an age delivery is served (206)" 206 \
    "$(status "$WORK/telkom" -D "$WORK/age.head" -H 'Range: bytes=0-99' "$URL/v1/packages/$RAHASIA")"
cp "$WORK/last_body" "$WORK/age.part1"
contains "from the start of an age file" "age-encryption.org/v1" "$(head -c 22 "$WORK/age.part1")"
ETAG=$(tr -d '\r' <"$WORK/age.head" | sed -n 's/^etag: //Ip')
contains "it has an ETag of its own" '"age-' "$ETAG"
same "the rest, asked with If-Range, comes (206)" 206 \
    "$(status "$WORK/telkom" -H 'Range: bytes=100-' -H "If-Range: $ETAG" "$URL/v1/packages/$RAHASIA")"
cat "$WORK/age.part1" "$WORK/last_body" >"$WORK/age.whole"
check "the two parts are one age file the partner's identity opens to the package" \
    cmp <(age -d -i "$WORK/telkom/age.key" "$WORK/age.whole") "$WORK/data.csv"
telkom_downloads() { api "$C" "$URL/v1/approvals?package=$RAHASIA" | python3 -c 'import json,sys; print([a for a in json.load(sys.stdin) if a["partner"]=="telkom"][0]["downloads"])'; }
# (counted once the transfer has ended, just after the last byte)
for _ in $(seq 1 50); do [ "$(telkom_downloads)" = 1 ] && break; sleep 0.1; done
same "the approval counts them as one download" 1 "$(telkom_downloads)"
same "a range inside the finished download is still served: its end may not have reached the reader" 206 \
    "$(status "$WORK/telkom" -H 'Range: bytes=150-' -H "If-Range: $ETAG" "$URL/v1/packages/$RAHASIA")"
same "the capped approval is then used up (403)" 403 "$(pull "$WORK/telkom" "$RAHASIA")"
contains "saying so" "used up" "$(cat "$WORK/last_body")"
# Ranges that never complete a download cannot fetch more than the cap either.
"$SERAMBI" approve "$RAHASIA" --for telkom --profile "$C" >/dev/null
LAST=$(($(stat -c %s "$WORK/age.whole") - 2))
same "a range short of the end is served" 206 "$(status "$WORK/telkom" -H "Range: bytes=0-$LAST" "$URL/v1/packages/$RAHASIA")"
same "and again (what a cut link sends twice is allowed for)" 206 "$(status "$WORK/telkom" -H "Range: bytes=0-$LAST" "$URL/v1/packages/$RAHASIA")"
same "but not a third time (403)" 403 "$(status "$WORK/telkom" -H "Range: bytes=0-$LAST" "$URL/v1/packages/$RAHASIA")"
contains "saying to resume instead" "resume the cut download" "$(cat "$WORK/last_body")"

# ---- Everything was decided and recorded
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$WORK/inspektorat" 2>/dev/null
log=$(cat "$WORK/log.jsonl")
for action in agreement.create agreement.revoke approval.create approval.withdraw principal.recipient; do
    contains "the log records $action" "\"action\":\"$action\"" "$log"
done
contains "denials are recorded with the policy's reason" "was revoked" "$log"
contains "allowed reads name the approval they rest on" "released by approval $APV" "$log"
same "the explain route is for custodians only (404)" 404 "$(status "$BI" "$URL/v1/policy/explain?principal=bi-malut&package=$TERBATAS")"
same "the admin learns nothing of the data from it either (404)" 404 "$(status "$ADMIN" "$URL/v1/policy/explain?principal=bi-malut&package=$SECRET")"
out=$("$SERAMBI" policy explain --principal bi-malut --package "$SECRET" --profile "$C")
same "policy explain prints the decision" allow "$(echo "$out" | json_field decision)"

# ---- policy check
check "the shipped policy passes policy check" "$SERAMBI" policy check "$DEP/policy.toml"
sed 's/approvals = 1/aprovals = 1/' "$DEP/policy.toml" > "$WORK/typo.toml"
refuse_saying "a misspelt key is named with its file and line" "typo.toml:$(grep -n aprovals "$WORK/typo.toml" | cut -d: -f1): levels.rahasia.aprovals: unknown key" \
    "$SERAMBI" policy check "$WORK/typo.toml"
sed 's/readers = \["owner", "custodian", "agreement"\]/readers = ["owner", "walidata"]/' "$DEP/policy.toml" > "$WORK/role.toml"
refuse_saying "an unknown reader is refused" "unknown reader" "$SERAMBI" policy check "$WORK/role.toml"
sed 's/^obligations = \["encrypt-to-recipient"\]/obligations = ["shred-after-reading"]/' "$DEP/policy.toml" > "$WORK/shred.toml"
refuse_saying "an obligation the gateway does not know is refused" "unknown obligation" "$SERAMBI" policy check "$WORK/shred.toml"
stop_gateway
cp "$WORK/shred.toml" "$DEP/policy.toml"
"$SERAMBI" serve --config "$DEP/serambi.toml" >"$WORK/refused.log" 2>&1
same "the gateway refuses to start with it (fail closed)" 1 "$?"
contains "and says why" "levels.rahasia.obligations: unknown obligation" "$(cat "$WORK/refused.log")"
finish
