# Golden output: what people read on a terminal, in Bahasa Indonesia and in English, and the
# machine form, compared line by line with tests/golden/*.txt. Ids, times, ports and paths are
# replaced by placeholders first; everything else (words, columns, order) must stay as it is
# unless the golden files are changed with it: SERAMBI_GOLDEN_UPDATE=1 rewrites them.
source "$(dirname "$0")/lib.sh"
GOLDEN=$(realpath "$(dirname "$0")/../golden")
export TZ=Asia/Jayapura
init_deployment
start_gateway
add_principal dinkes-malut producer
add_principal walidata custodian
add_principal bi-malut partner
add_principal inspektorat auditor
P=$WORK/dinkes-malut C=$WORK/walidata BI=$WORK/bi-malut A=$WORK/inspektorat
"$SERAMBI" dataset create dinkes-malut/gizi --class terbatas --title "Gizi balita" --profile "$C" >/dev/null
"$SERAMBI" agreement add --partner bi-malut --datasets 'dinkes-malut/*' --max-class rahasia --purpose kajian \
    --valid-from 2026-01-01 --valid-until 2099-12-31 --profile "$C" >/dev/null
mkdir -p "$WORK/src"
head -c 1300000 /dev/zero | tr '\0' 'x' >"$WORK/src/laporan-bulanan.csv"
printf 'a,b\n1,2\n' >"$WORK/src/kecil.csv"

# What varies from run to run: package and request ids, serials, times of this run (local and
# UTC apart, so that a local time turned UTC shows), indexes, ports, days left, and the test's
# own directory. The agreement's end, in 2099, stays literal: it shows that times are local.
normal() {
    tr -d '\r' | sed -E \
        -e "s|$WORK|<WORK>|g" \
        -e 's/[0-9a-f]{64}/<SHA256>/g' -e 's/[0-9a-f]{32}/<ID>/g' \
        -e 's/(req|mou|apv)-[0-9a-f]{16}/\1-<ID>/g' \
        -e 's/20[23][0-9]-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<UTC>/g' \
        -e 's/20[23][0-9]-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}/<LOCAL>/g' \
        -e 's/20[23][0-9]-[0-9]{2}-[0-9]{2}/<DATE>/g' \
        -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:<PORT>/g' \
        -e 's/(indeks log|log index) [0-9]+/\1 <N>/' \
        -e 's/\(([0-9]+) (hari lagi|days left)\)/(<N> \2)/' \
        -e 's/ +$//'
}
golden() { # NAME LANG COMMAND: the command's terminal output against tests/golden/NAME.txt
    local name=$1 lang=$2 got
    got=$(LANG=$lang script -qc "$3" /dev/null | normal)
    if [ -n "${SERAMBI_GOLDEN_UPDATE:-}" ]; then
        printf '%s\n' "$got" >"$GOLDEN/$name.txt"
        pass "$name: written"
        return
    fi
    if [ "$got" == "$(cat "$GOLDEN/$name.txt")" ]; then
        pass "$name: as tests/golden/$name.txt"
    else
        fail "$name: differs from tests/golden/$name.txt"
        diff <(printf '%s\n' "$got") "$GOLDEN/$name.txt" | head -20
    fi
}

for lang in id:id_ID.UTF-8 en:C.UTF-8; do
    tag=${lang%%:*} LANG_NAME=${lang#*:}
    golden "push-$tag" "$LANG_NAME" "'$SERAMBI' push dinkes-malut/gizi '$WORK/src/laporan-bulanan.csv' -q --no-proof --allow-duplicate --profile '$P'"
    golden "status-$tag" "$LANG_NAME" "'$SERAMBI' status --profile '$C'"
    golden "ls-$tag" "$LANG_NAME" "'$SERAMBI' ls --profile '$BI'"
    golden "agreements-$tag" "$LANG_NAME" "'$SERAMBI' agreement list --profile '$C'"
    golden "help-$tag" "$LANG_NAME" "'$SERAMBI' help"
    golden "unknown-$tag" "$LANG_NAME" "'$SERAMBI' help nothing-like-this"
done
ID=$("$SERAMBI" push dinkes-malut/gizi "$WORK/src/kecil.csv" -q --no-proof --profile "$P" | json_field package_id)
golden "audit-package-id" id_ID.UTF-8 "'$SERAMBI' audit package $ID --profile '$A'"
golden "audit-package-en" C.UTF-8 "'$SERAMBI' audit package $ID --profile '$A'"
"$SERAMBI" dataset create dinkes-malut/kasus --class rahasia --title Kasus --profile "$C" >/dev/null
K=$("$SERAMBI" push dinkes-malut/kasus "$WORK/src/kecil.csv" -q --no-proof --profile "$P" | json_field package_id)
golden "request-id" id_ID.UTF-8 "'$SERAMBI' request $K --purpose 'kajian inflasi' --profile '$BI'"
golden "approve-en" C.UTF-8 "'$SERAMBI' approve $K --for bi-malut --max-downloads 3 --profile '$C'"
for lang in id:id_ID.UTF-8 en:C.UTF-8; do
    tag=${lang%%:*} LANG_NAME=${lang#*:}
    golden "requests-$tag" "$LANG_NAME" "'$SERAMBI' requests list --profile '$C'"
    golden "approvals-$tag" "$LANG_NAME" "'$SERAMBI' approvals list --profile '$BI'"
done
# The machine form keeps its fields whatever the language: the same in both.
golden "status-json" id_ID.UTF-8 "'$SERAMBI' status --json --profile '$C' | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)))'"
golden "receipt-json" id_ID.UTF-8 "'$SERAMBI' push dinkes-malut/gizi '$WORK/src/kecil.csv' --json -q --no-proof --allow-duplicate --profile '$P' | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)))'"
finish
