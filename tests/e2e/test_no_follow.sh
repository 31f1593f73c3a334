# The CLI never writes through a link. Whoever can create names where a user saves files (a shared
# download folder, /tmp) could plant FILE.manifest.json -> ~/.ssh/authorized_keys and have the
# next `serambi pull` overwrite it. Every output goes to a temporary file beside its target and is
# renamed over it: a link planted there is replaced, never followed, and what it pointed to is
# left as it was. Outputs that must not replace anything refuse a link as they refuse a file.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal bi-malut partner
add_principal inspektorat auditor
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/fasilitas --class biasa --title Fasilitas --profile "$ADMIN" >/dev/null
head -c 100000 /dev/urandom > "$WORK/data.bin"
ID=$("$SERAMBI" push dinkes-malut/fasilitas "$WORK/data.bin" -q --profile "$P" | json_field package_id)
VICTIM=$WORK/victim
echo "precious, not to be overwritten" > "$VICTIM"
chmod 644 "$VICTIM"
BEFORE=$(sha256sum < "$VICTIM")
OUT=$WORK/out
mkdir -p "$OUT"
# victim_intact WHAT: the file the planted links point to is as it was (put back if not, so that
# each command is judged on its own).
victim_intact() {
    same "$1: the link's target is unchanged" "$BEFORE" "$(sha256sum < "$VICTIM")"
    echo "precious, not to be overwritten" > "$VICTIM"
}
# regular DESCRIPTION FILE: the output is now a regular file of its own, not a link.
regular() {
    if [ -f "$2" ] && [ ! -L "$2" ]; then pass "$1"; else fail "$1 ($(ls -l "$2" 2>&1))"; fi
}

# ---- pull: the payload, its manifest and its signature
for name in got.bin got.bin.manifest.json got.bin.manifest.p7s; do ln -s "$VICTIM" "$OUT/$name"; done
check "pull succeeds with links planted at all three of its outputs" "$SERAMBI" pull "$ID" -o "$OUT/got.bin" -q --profile "$P"
victim_intact "pull"
for name in got.bin got.bin.manifest.json got.bin.manifest.p7s; do regular "pull replaced the link $name with a file" "$OUT/$name"; done
check "the payload is the package" cmp "$OUT/got.bin" "$WORK/data.bin"
check "the manifest and signature verify" "$SERAMBI" verify "$OUT/got.bin" --manifest "$OUT/got.bin.manifest.json" \
    --signature "$OUT/got.bin.manifest.p7s" --ca "$P/ca.crt"
same "the payload is the user's alone (0600)" 600 "$(stat -c %a "$OUT/got.bin")"
same "no temporary file is left behind" "" "$(ls -A "$OUT" | grep -v '^got\.bin' || true)"
# A hard link is a second name for the victim's inode: writing in place would change it too.
ln "$VICTIM" "$OUT/hard.bin"
check "pull over a hard link to the victim" "$SERAMBI" pull "$ID" -o "$OUT/hard.bin" --no-manifest -q --profile "$P"
victim_intact "pull over a hard link"
# A link to a device or a pipe is refused, not followed (a FIFO would hand the payload to whoever
# reads it; a block device would be overwritten).
mkfifo "$WORK/fifo"
ln -s "$WORK/fifo" "$OUT/to-fifo.bin"
refuse_saying "pull refuses a link to a pipe rather than write into it" "link" \
    timeout 20 "$SERAMBI" pull "$ID" -o "$OUT/to-fifo.bin" --no-manifest -q --profile "$P"
check "and leaves the link as it was" test -L "$OUT/to-fifo.bin"
check "a device named directly is still written in place" "$SERAMBI" pull "$ID" -o /dev/null --no-manifest -q --profile "$P"

# ---- pki crl -o
ln -s "$VICTIM" "$OUT/crl.der"
check "pki crl -o succeeds over a link" "$SERAMBI" pki crl -o "$OUT/crl.der" --profile "$ADMIN"
victim_intact "pki crl"
regular "the CRL is a file of its own" "$OUT/crl.der"
check "and a CRL" openssl crl -inform DER -in "$OUT/crl.der" -noout

# ---- audit export (and its checkpoint), audit proof inclusion -o
ln -s "$VICTIM" "$OUT/log.jsonl"
ln -s "$VICTIM" "$OUT/log.jsonl.checkpoint"
"$SERAMBI" audit key --profile "$WORK/inspektorat" > "$WORK/log.pub"
check "audit export succeeds over links" "$SERAMBI" audit export -o "$OUT/log.jsonl" --profile "$WORK/inspektorat"
victim_intact "audit export"
regular "the export is a file of its own" "$OUT/log.jsonl"
regular "so is its checkpoint" "$OUT/log.jsonl.checkpoint"
check "and they verify" "$SERAMBI" audit verify --export "$OUT/log.jsonl" --checkpoint "$OUT/log.jsonl.checkpoint" --key "$WORK/log.pub"
ln -s "$VICTIM" "$OUT/proof.json"
check "audit proof inclusion -o succeeds over a link" \
    "$SERAMBI" audit proof inclusion --index 0 --key "$WORK/log.pub" -o "$OUT/proof.json" --profile "$WORK/inspektorat"
victim_intact "audit proof"
regular "the proof is a file of its own" "$OUT/proof.json"

# ---- age
ln -s "$VICTIM" "$OUT/sealed.age"
RECIPIENT=$("$SERAMBI" recipient show bi-malut --profile "$P")
check "age encrypt -o succeeds over a link" "$SERAMBI" age encrypt -r "$RECIPIENT" -o "$OUT/sealed.age" "$WORK/data.bin"
victim_intact "age encrypt"
regular "the ciphertext is a file of its own" "$OUT/sealed.age"
ln -s "$VICTIM" "$OUT/opened.bin"
check "age decrypt -o succeeds over a link" "$SERAMBI" age decrypt -i "$WORK/bi-malut/age.key" -o "$OUT/opened.bin" "$OUT/sealed.age"
victim_intact "age decrypt"
check "and opens to the original" cmp "$OUT/opened.bin" "$WORK/data.bin"
# keygen never overwrites: a link is refused like a file, and left alone.
ln -s "$VICTIM" "$OUT/id.key"
refuse_saying "age keygen refuses a link where its identity would go" "already exists" "$SERAMBI" age keygen -o "$OUT/id.key"
victim_intact "age keygen"
check "the link is left as it was" test -L "$OUT/id.key"
ln -s "$WORK/nowhere" "$OUT/dangling.key"
refuse "age keygen refuses a dangling link too (it would create the file it points to)" "$SERAMBI" age keygen -o "$OUT/dangling.key"
check "nothing was created where it points" test ! -e "$WORK/nowhere"

# ---- push --to pins recipients in the profile: recipients.pinned is replaced, not followed
"$SERAMBI" dataset create dinkes-malut/rujukan --class sangat-rahasia --title Rujukan --profile "$ADMIN" >/dev/null
ln -s "$VICTIM" "$P/recipients.pinned"
check "push --to succeeds with a link at recipients.pinned" \
    "$SERAMBI" push dinkes-malut/rujukan "$WORK/data.bin" --to bi-malut -q --profile "$P"
victim_intact "push --to"
regular "the pins are a file of the profile's own" "$P/recipients.pinned"
contains "holding the pin" "bi-malut age1" "$(cat "$P/recipients.pinned")"

# ---- enroll writes only new files: links are refused, and nothing is written through them
mkdir -p "$WORK/unit"
ln -s "$VICTIM" "$WORK/unit/client.csr"
refuse "enroll refuses a link where its request would go" "$SERAMBI" enroll --id opd-baru --out "$WORK/unit"
victim_intact "enroll"

# ---- renew replaces client.crt and client.key: links there (to copies kept elsewhere, which the
# profile reads through) are replaced, and the copies stay as they were.
R=$WORK/bi-malut
mkdir -p "$WORK/keep"
for f in client.crt client.key; do mv "$R/$f" "$WORK/keep/$f"; ln -s "$WORK/keep/$f" "$R/$f"; done
KEPT=$(cat "$WORK/keep/client.crt" "$WORK/keep/client.key" | sha256sum)
check "renew --new-key succeeds with its certificate and key behind links" "$SERAMBI" renew --new-key --profile "$R"
same "renew: what the links pointed to is unchanged" "$KEPT" "$(cat "$WORK/keep/client.crt" "$WORK/keep/client.key" | sha256sum)"
regular "client.crt is a file of the profile's own" "$R/client.crt"
regular "client.key is a file of the profile's own" "$R/client.key"
same "client.key is 0600" 600 "$(stat -c %a "$R/client.key")"
check "and the renewed profile works" "$SERAMBI" whoami --profile "$R"
finish
