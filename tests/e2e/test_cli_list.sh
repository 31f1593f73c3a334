# `serambi ls` across datasets with its filters, the language of messages (locale and profile),
# `serambi help TOPIC`, the bash completion and the manual pages, all generated from the one
# command-line definition.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal bi-malut partner
P=$WORK/dinkes-malut
BI=$WORK/bi-malut
"$SERAMBI" dataset create dinkes-malut/gizi --class biasa --title Gizi --profile "$ADMIN" >/dev/null
"$SERAMBI" dataset create dinkes-malut/kasus --class rahasia --title Kasus --profile "$ADMIN" >/dev/null
mkdir -p "$WORK/src"
printf 'bulan,nilai\n1,10\n' >"$WORK/src/laporan-jan.csv"
printf 'bulan,nilai\n2,20\n' >"$WORK/src/Laporan-Feb.csv"
printf 'kode,anggaran\n1,999\n' >"$WORK/src/anggaran.csv"
printf 'nik,kasus\n1,x\n' >"$WORK/src/kasus.csv"
for f in laporan-jan Laporan-Feb anggaran; do
    "$SERAMBI" push dinkes-malut/gizi "$WORK/src/$f.csv" -q --no-proof --profile "$P" >/dev/null
done
SECRET=$("$SERAMBI" push dinkes-malut/kasus "$WORK/src/kasus.csv" -q --no-proof --profile "$P" | json_field package_id)
count() { python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["package_id"]))'; }
names() { python3 -c 'import json,sys; print(" ".join(json.loads(l)["filename"] for l in sys.stdin))'; }

# Piped: JSON Lines, the API's package summaries.
out=$("$SERAMBI" ls --profile "$P")
same "the producer lists its four packages across both datasets" 4 "$(echo "$out" | count)"
same "newest first" "kasus.csv anggaran.csv Laporan-Feb.csv laporan-jan.csv" "$(echo "$out" | names)"
out=$("$SERAMBI" ls --profile "$BI")
same "a partner without an agreement sees only the biasa ones" 3 "$(echo "$out" | count)"
check "and nothing of the rahasia package" test "${out/$SECRET/}" == "$out"
same "--class rahasia" "kasus.csv" "$("$SERAMBI" ls --class rahasia --profile "$P" | names)"
same "--dataset and --name (letters in any case)" "Laporan-Feb.csv laporan-jan.csv" \
    "$("$SERAMBI" ls --dataset dinkes-malut/gizi --name LAPORAN --profile "$P" | names)"
same "--limit 2: the newest two" "kasus.csv anggaran.csv" "$("$SERAMBI" ls --limit 2 --profile "$P" | names)"
out=$("$SERAMBI" ls --since "$(date -d tomorrow +%Y-%m-%d)" --profile "$P")
same "--since tomorrow: none, and no error" "0:" "$?:$out"
same "--until tomorrow: all four" 4 "$("$SERAMBI" ls --until "$(date -d tomorrow +%Y-%m-%d)" --profile "$P" | count)"
same "--producer names the one who pushed" 4 "$("$SERAMBI" ls --producer dinkes-malut --profile "$P" | count)"
out=$("$SERAMBI" ls --producer bi-malut --profile "$P")
same "another producer pushed none" "0:" "$?:$out"
# More than one page (the gateway gives at most 1,000 at a time) is not needed to show paging:
# --all walks pages of the size asked, so a limit above the total still ends.
same "--all" 4 "$("$SERAMBI" ls --all --profile "$P" | count)"

# The clumsy and the hostile: each refused with a message, before or by the gateway.
refuse_saying "a dataset that is not OWNER/NAME" "OWNER/NAME" "$SERAMBI" ls --dataset '../etc' --profile "$P"
refuse_saying "a date that is not one" "takes a date" "$SERAMBI" ls --since yesterday --profile "$P"
refuse_saying "a misspelt classification is refused by the gateway, saying so" "400" \
    "$SERAMBI" ls --class rahsia --profile "$P"
check "the rahasia package's id is known (the next checks need it)" test -n "$SECRET"
refuse "--limit 0" "$SERAMBI" ls --limit 0 --profile "$P"
refuse "--all with --limit" "$SERAMBI" ls --all --limit 3 --profile "$P"
# Sent as one value: were the & taken as a separator, the gateway would filter by the dataset
# and list kasus.csv.
out=$("$SERAMBI" ls --name "csv&dataset=dinkes-malut/kasus" --profile "$P")
same "a name with an ampersand is sent as a value, not as more of the query" "0:" "$?:$out"

# A partner whose agreement covers rahasia sees the rahasia package too, marked as one to ask for.
add_principal walidata custodian
"$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/*' --max-class rahasia --purpose kajian \
    --valid-from "$(date -u -d yesterday +%Y-%m-%d)" --valid-until "$(date -u -d '+30 days' +%Y-%m-%d)" \
    --profile "$WORK/walidata" >/dev/null
out=$("$SERAMBI" ls --access request --profile "$BI")
same "--access request: what the partner may ask to have released" "kasus.csv" "$(echo "$out" | names)"
same "--access released: what it may pull now" 3 "$("$SERAMBI" ls --access released --profile "$BI" | count)"
table=$(LANG=C.UTF-8 script -qc "'$SERAMBI' ls --class rahasia --profile '$BI'" /dev/null | tr -d '\r')
contains "the table says that one must be asked for" "request" "$table"
table=$(LANG=C.UTF-8 script -qc "'$SERAMBI' ls --class biasa --limit 1 --profile '$BI'" /dev/null | tr -d '\r')
contains "and that the others may be pulled" "pull" "$table"

# On a terminal: a table with sizes and local times, in the language of the locale.
table=$(LANG=C.UTF-8 script -qc "'$SERAMBI' ls --profile '$P'" /dev/null | tr -d '\r')
contains "a terminal gets a table" "PACKAGE" "$table"
contains "with the file names" "laporan-jan.csv" "$table"
contains "and sizes for people" "20 B" "$table"
contains "and the local day" "$(date +%Y-%m-%d)" "$table"
table=$(LANG=id_ID.UTF-8 script -qc "'$SERAMBI' ls --limit 1 --profile '$P'" /dev/null | tr -d '\r')
contains "in Indonesian for an id_* locale" "BERKAS" "$table"
contains "saying what is left out" "1 dari 4 paket ditampilkan" "$table"
table=$(LANG=C.UTF-8 script -qc "'$SERAMBI' ls --name nothing-like-this --profile '$P'" /dev/null | tr -d '\r')
contains "no match says so" "No packages match." "$table"

# Every listing is a table for people on a terminal and the API's JSON for scripts.
tty() { LANG=${TTY_LANG:-C.UTF-8} script -qc "$1" /dev/null | tr -d '\r'; }
"$SERAMBI" request "$SECRET" --purpose kajian --profile "$BI" >/dev/null
"$SERAMBI" approve "$SECRET" --for bi-malut --profile "$WORK/walidata" >/dev/null
table=$(tty "'$SERAMBI' dataset list --profile '$P'")
contains "dataset list: a table" "DATASET" "$table"
contains "with the titles" "Gizi" "$table"
table=$(TTY_LANG=id_ID.UTF-8 tty "'$SERAMBI' agreement list --profile '$WORK/walidata'")
contains "agreement list in Indonesian" "MITRA" "$table"
contains "with the partner and the datasets" "dinkes-malut/*" "$table"
table=$(tty "'$SERAMBI' requests list --profile '$WORK/walidata'")
contains "requests list: the request's state" "released" "$table"
contains "and its purpose" "kajian" "$table"
table=$(tty "'$SERAMBI' approvals list --profile '$BI'")
contains "approvals list: the partner's approval" "$SECRET" "$table"
contains "with the custodian" "walidata" "$table"
table=$(TTY_LANG=id_ID.UTF-8 tty "'$SERAMBI' principal list --profile '$ADMIN'")
contains "principal list in Indonesian" "SERTIFIKAT BERAKHIR" "$table"
contains "with the roles" "partner" "$table"
table=$(tty "'$SERAMBI' dataset packages dinkes-malut/kasus --profile '$BI'")
contains "a dataset's packages say which may be pulled" "pull" "$table"
line=$(tty "'$SERAMBI' requests list --json --profile '$WORK/walidata'")
contains "--json gives the API's answer even on a terminal" '"state":"released"' "$line"
same "piped, the API's JSON" 1 "$("$SERAMBI" requests list --profile "$WORK/walidata" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
table=$(tty "'$SERAMBI' approvals list --partner walidata --profile '$WORK/walidata'")
contains "an empty list says so" "Nothing to list." "$table"

# What a command did, in one line on a terminal; its JSON answer piped or with --json.
contains "whoami: who, in words" "dinkes-malut (producer): Test dinkes-malut, certificate" \
    "$(tty "'$SERAMBI' whoami --profile '$P'")"
contains "dataset create, in Indonesian" 'Dataset dibuat: dinkes-malut/arsip (biasa), "Arsip", milik dinkes-malut' \
    "$(TTY_LANG=id_ID.UTF-8 tty "'$SERAMBI' dataset create dinkes-malut/arsip --class biasa --title Arsip --profile '$WORK/walidata'")"
SECOND=$("$SERAMBI" push dinkes-malut/kasus "$WORK/src/anggaran.csv" -q --no-proof --allow-duplicate --profile "$P" | json_field package_id)
contains "request: the request's id and what was asked" "sent: package $SECOND (open); the walidata see it" \
    "$(tty "'$SERAMBI' request $SECOND --purpose kajian --profile '$BI'")"
line=$(tty "'$SERAMBI' approve $SECOND --for bi-malut --max-downloads 2 --profile '$WORK/walidata'")
contains "approve: what was approved for whom, until when (not 'released': a package may need two)" \
    ": package $SECOND for bi-malut, until " "$line"
contains "and how many downloads" ", at most 2 downloads" "$line"
same "--json: the answer itself" bi-malut "$(tty "'$SERAMBI' whoami --json --profile '$BI'" | json_field id)"

# A gateway that lies: the CLI ends with a clear error instead of paging for ever, and nothing
# it sends reaches the terminal as a control sequence.
FAKE=$WORK/fake-profile
HOSTILE_GATEWAY=$(realpath "$(dirname "$0")/hostile_gateway.py")
cp -r "$P" "$FAKE"
hostile() { # MODE: a lying gateway on a port of its own, named by the fake profile
    [ -n "${HOSTILE_PID:-}" ] && kill "$HOSTILE_PID" 2>/dev/null && wait "$HOSTILE_PID" 2>/dev/null
    local port
    port=$(free_port)
    (cd "$WORK" && exec python3 "$HOSTILE_GATEWAY" "$port" "$DEP/pki/gateway.crt" "$DEP/pki/gateway.key" \
        "$P/ca.crt" "$1") &
    HOSTILE_PID=$!
    sed -i "s|^gateway = .*|gateway = \"https://127.0.0.1:$port\"|" "$FAKE/profile.toml"
    wait_for 10 curl -s -o /dev/null --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" \
        "https://127.0.0.1:$port/v1/packages"
    : >"$WORK/requests.txt"
}
hostile repeat
refuse_saying "the same package on every page, with a huge total: a clear error" "do not move on" \
    timeout 30 "$SERAMBI" ls --all --profile "$FAKE"
check "after a handful of requests, not millions" test "$(wc -l <"$WORK/requests.txt")" -le 5
hostile oversized
refuse_saying "more packages than asked for" "more packages than were asked for" "$SERAMBI" ls --limit 3 --profile "$FAKE"
hostile escapes
table=$(LANG=C.UTF-8 script -qc "'$SERAMBI' ls --profile '$FAKE'" /dev/null)
contains "a filename with escape sequences is still listed" "laporan" "$table"
check "but no escape character reaches the terminal" test "$(printf '%s' "$table" | grep -c $'\x1b')" -eq 0
check "nor a C1 control (CSI as U+009B)" test "$(printf '%s' "$table" | grep -c $'\xc2\x9b')" -eq 0
line=$(LANG=C.UTF-8 script -qc "'$SERAMBI' ls --json --profile '$FAKE'" /dev/null)
check "--json on a terminal is cleaned too" test "$(printf '%s' "$line" | grep -c $'\x1b')" -eq 0
same "piped, a script gets the name exactly as the gateway sent it" $'\x1b]0;owned\x07\x1b[2Jlaporan\u009b31m.csv' \
    "$("$SERAMBI" ls --profile "$FAKE" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["filename"])')"
hostile refusal
out=$("$SERAMBI" ls --profile "$FAKE" 2>&1)
contains "a refusal is reported with its words" "such thing" "$out"
check "without its escape sequences" test "$(printf '%s' "$out" | grep -c $'\x1b')" -eq 0
hostile notobject
out=$(LANG=C.UTF-8 script -qc "'$SERAMBI' whoami --profile '$FAKE'; echo exit=\$?" /dev/null)
contains "an answer that is not the object it should be is an error on a terminal, not a summary" \
    "not what it should be" "$out"
contains "and the command fails" "exit=1" "$out"
out=$(LANG=C.UTF-8 script -qc "'$SERAMBI' whoami --json --profile '$FAKE'" /dev/null)
check "--json on a terminal prints it cleaned: no escape character" test "$(printf '%s' "$out" | grep -c $'\x1b')" -eq 0
check "nor a C1 control" test "$(printf '%s' "$out" | grep -c $'\xc2\x9b')" -eq 0
same "piped, exactly as sent" "$(printf '"\\u001b]0;owned\\u0007\\u001b[2J\\u009bDirilis"')" "$("$SERAMBI" whoami --profile "$FAKE")"
kill "$HOSTILE_PID" 2>/dev/null
wait "$HOSTILE_PID" 2>/dev/null

# The profile's language comes before the locale.
profile_language() { python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb")).get("language", "-"))' "$P/profile.toml"; }
check "profile language id" "$SERAMBI" profile language id --profile "$P"
same "is kept in profile.toml" id "$(profile_language)"
same "and shown" "id (Bahasa Indonesia)" "$("$SERAMBI" profile language --profile "$P")"
table=$(LANG=C.UTF-8 script -qc "'$SERAMBI' ls --limit 1 --profile '$P'" /dev/null | tr -d '\r')
contains "an English locale then gets Indonesian" "PAKET" "$table"
check "the profile still works for everything else" "$SERAMBI" whoami --profile "$P"
refuse_saying "a language the CLI has no messages in is refused" "not in {id,en,auto}" \
    "$SERAMBI" profile language fr --profile "$P"
same "and the profile keeps its choice" id "$(profile_language)"
check "auto gives the choice back to the locale" "$SERAMBI" profile language auto --profile "$P"
same "the key is gone" - "$(profile_language)"
same "the rest of the profile is as it was" dinkes-malut "$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["principal"])' "$P/profile.toml")"
echo 'language = "fr"' >>"$P/profile.toml"
refuse_saying "a profile.toml edited by hand with another language is refused, saying what is allowed" \
    'language is "id"' "$SERAMBI" ls --profile "$P"
sed -i '/^language/d' "$P/profile.toml"

# help TOPIC, in either language, by either name.
out=$(LANG=C.UTF-8 "$SERAMBI" help)
for cmd in ls push pull status audit completion man; do
    contains "help lists the command $cmd" "  $cmd " "$out"
done
contains "and the topics" "classification" "$out"
# Every command's line is in Indonesian too: none is the same in both languages.
same_lines=$(comm -12 <(LANG=C.UTF-8 "$SERAMBI" help | sed -n '/^Commands/,/^$/p' | sort) \
    <(LANG=id_ID.UTF-8 "$SERAMBI" help | sed -n '/^Perintah/,/^$/p' | sort) | grep -v '^$')
same "help in Indonesian says what every command does in Indonesian" "" "$same_lines"
contains "help classification explains the levels" "sangat-rahasia  the dataset's owner" "$(LANG=C.UTF-8 "$SERAMBI" help classification)"
contains "help klasifikasi in Indonesian" "semua organisasi terdaftar" "$(LANG=id_ID.UTF-8 "$SERAMBI" help klasifikasi)"
contains "either name in either language" "semua organisasi terdaftar" "$(LANG=id_ID.UTF-8 "$SERAMBI" help classification)"
contains "help COMMAND is the command's own help" "--principal" "$("$SERAMBI" help audit search)"
refuse_saying "an unknown topic" "no help topic or command named 'nope'" env LANG=C "$SERAMBI" help nope
refuse_saying "and in Indonesian" "tidak ada topik bantuan" env LANG=id_ID.UTF-8 "$SERAMBI" help nope

# The bash completion, sourced into a real bash.
"$SERAMBI" completion bash >"$WORK/completion.bash"
complete_words() { # WORDS...: what bash would offer for the last word
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _serambi; echo "${COMPREPLY[*]}"' \
        _ "$WORK/completion.bash" "$@"
}
same "serambi au<TAB>" "audit" "$(complete_words serambi au)"
same "serambi audit se<TAB>" "search" "$(complete_words serambi audit se)"
same "an option of the command" "--class" "$(complete_words serambi ls --cl)"
same "the classifications after --class" "rahasia" "$(complete_words serambi ls --class ra)"
same "a help topic" "klasifikasi" "$(complete_words serambi help kl)"
same "an option's value is not taken for a command" "--json" "$(complete_words serambi audit search --principal audit --js)"
refuse_saying "only bash" "only bash" "$SERAMBI" completion fish
# Every command the parser knows is offered: the script is made from the same definition.
for cmd in $(LANG=C.UTF-8 "$SERAMBI" help | sed -n '/^Commands/,/^$/p' | awk 'NR > 1 && NF {print $1}'); do
    [[ " $(complete_words serambi "") " == *" $cmd "* ]] || fail "completion offers $cmd"
done
pass "completion offers every command help lists"

# The manual pages: one per command, valid for groff with every warning on.
check "serambi man writes the pages" "$SERAMBI" man --out "$WORK/man"
check "serambi.1 and one per command" test -s "$WORK/man/serambi.1" -a -s "$WORK/man/serambi-ls.1" -a -s "$WORK/man/serambi-audit.1"
same "groff has nothing to warn about" "" "$(groff -man -ww -z "$WORK"/man/*.1 2>&1)"
contains "a page documents the options" "only file names containing this" "$(groff -man -Tutf8 -P-cbou "$WORK/man/serambi-ls.1" 2>/dev/null)"
contains "the main page carries the topics" "sangat-rahasia" "$(groff -man -Tutf8 -P-cbou "$WORK/man/serambi.1" 2>/dev/null)"
finish
