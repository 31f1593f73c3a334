# The command line for people. `serambi push DATASET FILE…` sends several files, one package
# each, and on a terminal says what it did in one line (in Indonesian where the locale is id_*);
# piped, it prints the receipts as JSON Lines. `serambi pull ID` without -o: the payload takes the
# package's own filename, in the current folder only, and never replaces a file (or a link
# planted there) unless --force says so. A filename that is not a plain name for this folder (a
# dot file, an option, a path) is refused.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/gizi --class biasa --title Gizi --profile "$ADMIN" >/dev/null
mkdir -p "$WORK/src" "$WORK/here"
printf 'kode,nilai\n1,2\n' >"$WORK/src/laporan bulanan.csv"
push() { "$SERAMBI" push dinkes-malut/gizi "$1" -q --no-proof --allow-duplicate --profile "$P" | json_field package_id; }
ID=$(push "$WORK/src/laporan bulanan.csv")
cd "$WORK/here"
check "pull without -o succeeds" "$SERAMBI" pull "$ID" -q --profile "$P"
check "the payload is the package's filename in the current folder, byte for byte" \
    cmp "$WORK/here/laporan bulanan.csv" "$WORK/src/laporan bulanan.csv"
check "with its manifest and proof beside it" test -f "laporan bulanan.csv.manifest.json" -a -f "laporan bulanan.csv.tlog-proof"
printf 'my own edits\n' >"laporan bulanan.csv"
refuse_saying "a second pull does not replace a file of that name" "exists already" "$SERAMBI" pull "$ID" -q --profile "$P"
same "which is left as it was" "my own edits" "$(cat "laporan bulanan.csv")"
check "--force replaces it" "$SERAMBI" pull "$ID" -q --force --profile "$P"
check "with the package" cmp "laporan bulanan.csv" "$WORK/src/laporan bulanan.csv"
check "-o still names any file" "$SERAMBI" pull "$ID" -o "$WORK/elsewhere.csv" -q --profile "$P"
# The files kept beside the payload are the user's too: an earlier proof is not replaced.
mkdir -p "$WORK/again" && cd "$WORK/again"
printf 'earlier proof\n' >"laporan bulanan.csv.tlog-proof"
refuse_saying "a proof file of that name stops the pull before anything is written" "tlog-proof exists already" \
    "$SERAMBI" pull "$ID" -q --profile "$P"
same "the earlier proof is kept" "earlier proof" "$(cat "laporan bulanan.csv.tlog-proof")"
check "and no payload was written" test ! -e "laporan bulanan.csv"
cd "$WORK/here"

# A link planted under the package's name is not followed, even one that points nowhere yet.
printf 'x\n' >"$WORK/src/target.csv"
T=$(push "$WORK/src/target.csv")
ln -s "$WORK/planted-target" target.csv
refuse_saying "a dangling link with the package's name is refused" "exists already" "$SERAMBI" pull "$T" -q --profile "$P"
check "and nothing was written through it" test ! -e "$WORK/planted-target"

# Names a producer may choose that must not be created here. A dot file the gateway refuses at
# the push already; a name that reads as an option gets through it, and pull does not use it.
printf 'echo pwned\n' >"$WORK/src/.profile"
refuse_saying "a dot file cannot even be pushed" "not starting with a dot" \
    "$SERAMBI" push dinkes-malut/gizi "$WORK/src/.profile" -q --no-proof --profile "$P"
printf 'a,b\n' >"$WORK/src/-rf.csv"
id=$("$SERAMBI" push dinkes-malut/gizi -q --no-proof --allow-duplicate --profile "$P" -- "$WORK/src/-rf.csv" | json_field package_id)
check "a package named '-rf.csv' is accepted by the gateway" test -n "$id"
refuse_saying "but pull does not save it under that name" "not a plain file name" "$SERAMBI" pull "$id" -q --profile "$P"
check "nothing named '-rf.csv' appears" test ! -e "./-rf.csv"
check "with -o it can still be saved" "$SERAMBI" pull "$id" -o "$WORK/saved.csv" -q --profile "$P"

# Several files at once; one that fails does not stop the others, and the exit status says so.
cd "$WORK"
printf '1\n' >"$WORK/src/satu.csv"
printf '2\n' >"$WORK/src/dua.csv"
out=$("$SERAMBI" push dinkes-malut/gizi "$WORK/src/satu.csv" "$WORK/src/dua.csv" -q --no-proof --profile "$P" 2>"$WORK/err")
same "two files, two receipts as JSON Lines when piped" 2 "$(echo "$out" | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["package_id"]))')"
contains "and a count on stderr" "2 of 2 files sent" "$(cat "$WORK/err")"
mkfifo "$WORK/src/pipa.csv"
"$SERAMBI" push dinkes-malut/gizi "$WORK/src/pipa.csv" "$WORK/src/satu.csv" -q --no-proof --allow-duplicate --profile "$P" \
    >"$WORK/out" 2>"$WORK/err"
same "a file that is not a regular file fails the push's exit status" 1 "$?"
same "but the other file is still sent" 1 "$(wc -l <"$WORK/out")"
contains "and the count names the one not sent" "1 of 2 files sent; not sent: $WORK/src/pipa.csv" "$(cat "$WORK/err")"
refuse_saying "--proof with several files is refused, saying why" "names one file" \
    "$SERAMBI" push dinkes-malut/gizi "$WORK/src/satu.csv" "$WORK/src/dua.csv" --proof x --profile "$P"

# On a terminal: one line a clerk reads, in Indonesian for an id_* locale, English otherwise.
line=$(LANG=id_ID.UTF-8 script -qc "'$SERAMBI' push dinkes-malut/gizi '$WORK/src/satu.csv' -q --no-proof --allow-duplicate --profile '$P'" /dev/null | tr -d '\r')
contains "in Indonesian" "Terkirim: satu.csv → dinkes-malut/gizi, 2 B, paket " "$line"
contains "with the log index" ", indeks log " "$line"
line=$(LANG=C.UTF-8 script -qc "'$SERAMBI' push dinkes-malut/gizi '$WORK/src/satu.csv' -q --no-proof --allow-duplicate --profile '$P'" /dev/null | tr -d '\r')
contains "in English" "Sent: satu.csv → dinkes-malut/gizi, 2 B, package " "$line"
line=$(script -qc "'$SERAMBI' push dinkes-malut/gizi '$WORK/src/satu.csv' --json -q --no-proof --allow-duplicate --profile '$P'" /dev/null | tr -d '\r')
contains "--json gives the receipt even on a terminal" '"package_id":' "$line"

# serambi status: the profile, the certificate's end, the gateway, and release requests waiting.
add_principal walidata custodian
add_principal bi-malut partner
C=$WORK/walidata
BI=$WORK/bi-malut
"$SERAMBI" dataset create dinkes-malut/kasus --class rahasia --title Kasus --profile "$ADMIN" >/dev/null
"$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/*' --max-class rahasia --purpose kajian \
    --valid-from "$(date -u -d yesterday +%Y-%m-%d)" --valid-until "$(date -u -d '+30 days' +%Y-%m-%d)" --profile "$C" >/dev/null
printf 'k,v\n1,2\n' >"$WORK/src/kasus.csv"
K=$("$SERAMBI" push dinkes-malut/kasus "$WORK/src/kasus.csv" -q --no-proof --profile "$P" | json_field package_id)
"$SERAMBI" request "$K" --purpose "kajian" --profile "$BI" >/dev/null
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
status_json=$("$SERAMBI" status --profile "$C")
same "status names the principal" walidata "$(echo "$status_json" | field principal)"
same "and its roles" custodian "$(echo "$status_json" | field roles)"
same "a custodian sees the request waiting for a decision" 1 "$(echo "$status_json" | field open_requests)"
same "so does the partner who made it" 1 "$("$SERAMBI" status --profile "$BI" | field open_requests)"
days=$(echo "$status_json" | field certificate_days_left)
check "the certificate's days left are counted (a fresh one: about a year)" test "$days" -ge 360 -a "$days" -le 366
same "its end date is the certificate's own" \
    "$(date -u -d "$(openssl x509 -in "$C/client.crt" -noout -enddate | cut -d= -f2)" +%Y-%m-%d)" \
    "$(echo "$status_json" | field certificate_not_after | cut -c1-10)"
line=$(LANG=id_ID.UTF-8 script -qc "'$SERAMBI' status --profile '$C'" /dev/null | tr -d '\r')
contains "on a terminal, in Indonesian" "Sertifikat  berlaku sampai" "$line"
contains "with the requests waiting" "Permintaan  1 menunggu keputusan" "$line"
stop_gateway
out=$("$SERAMBI" status --profile "$C")
same "with the gateway down, status fails" 1 "$?"
same "saying it is not connected" False "$(echo "$out" | field connected)"
later=$(echo "$out" | field certificate_days_left)
check "but still knows the certificate's end (the same day count, give or take the day turning)" \
    test "$later" -le "$days" -a "$later" -ge "$((days - 1))"
finish
