# Errors in Bahasa Indonesia: every text the CLI says through tr("…") has its pair in
# cli/error_texts.cpp, and so has every fixed text the gateway refuses with (a status title, a
# problem detail written as one literal) in its table there; no pair is left that nothing says any
# more. Then the real CLI against the real gateway: a refusal, a check of the CLI's own and a
# failure to connect, each in both languages.
source "$(dirname "$0")/lib.sh"
SOURCE=$(realpath "$(dirname "$0")/../..")
unset LC_ALL LC_MESSAGES SERAMBI_PROFILE

# One line per problem, "KIND: text"; then "said N gateway M".
python3 - "$SOURCE" >"$WORK/problems" <<'EOF'
import glob
import re
import sys

SOURCE = sys.argv[1]
LITERAL = r'"(?:[^"\\]|\\.)*"'
JOINED = rf'((?:{LITERAL}\s*)+)'  # adjacent literals, as clang-format breaks long ones


def text_of(literals):
    return "".join(bytes(m[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
                   for m in re.findall(LITERAL, literals))


def code(path):
    # Comments out, so that an example in a comment is not taken for a message.
    src = open(path, encoding="utf-8").read()
    return re.sub(r'//[^\n]*', lambda m: m.group(0) if m.group(0).count('"') % 2 else '', src)


said = set()
for path in glob.glob(f"{SOURCE}/cli/*.cpp"):
    if path.endswith(("error_texts.cpp", "messages.cpp")):
        continue
    src = code(path)
    for m in re.finditer(r'\btr\(\s*' + JOINED, src):
        said.add(text_of(m.group(1)))
    # tr() of anything but a literal could not be checked: every call is written with one.
    for m in re.finditer(r'\btr\(\s*(?!")', src):
        line = src.count("\n", 0, m.start()) + 1
        print(f"not-literal: {path.split('/')[-1]}:{line}")

gateway = set()
for path in glob.glob(f"{SOURCE}/gateway/*.cpp"):
    src = code(path)
    for m in re.finditer(r'\bproblem\(\s*ErrorKind::\w+,\s*' + JOINED + r'\s*,', src):
        gateway.add(text_of(m.group(1)))
    for m in re.finditer(r'\bprotocol_problem\(\s*\d+,\s*' + JOINED + r'\s*,', src):
        gateway.add(text_of(m.group(1)))
util = open(f"{SOURCE}/gateway/http_util.cpp", encoding="utf-8").read()
# Every text of the status titles, and of the detail a server-side failure is given instead of its own.
for function in ("title_of(int status)", "problem_of(const Error& error"):
    body = util[util.index(function):]
    body = body[:body.index("\n}\n")]
    for m in re.finditer(LITERAL, body):
        gateway.add(text_of(m.group(0)))

table = open(f"{SOURCE}/cli/error_texts.cpp", encoding="utf-8").read()
def pairs(name):
    body = table[table.index(name):]
    body = body[:body.index("\n};")]
    return [(text_of(a), text_of(b)) for a, b in re.findall(r'\{\s*' + JOINED + r',\s*' + JOINED + r'\}', body)]

for kind, wanted, name in (("error", said, "kErrorTexts[]"), ("gateway", gateway, "kGatewayTexts[]")):
    have = {}
    for english, indonesian in pairs(name):
        if english in have:
            print(f"twice-{kind}: {english}")
        have[english] = indonesian
    for text in sorted(wanted - have.keys()):
        print(f"missing-{kind}: {text}")
    for text in sorted(have.keys() - wanted):
        print(f"left-over-{kind}: {text}")
print(f"said {len(said)} gateway {len(gateway)}")
EOF
cat "$WORK/problems" | grep -v '^said ' | head -40
check "every text the CLI and the gateway say has its pair, and none is left over" \
    test "$(grep -vc '^said ' "$WORK/problems")" -eq 0
said=$(awk '/^said /{print $2}' "$WORK/problems")
from_gateway=$(awk '/^said /{print $4}' "$WORK/problems")
check "the CLI says many texts through the catalogue ($said)" test "${said:-0}" -ge 150
check "the gateway's fixed texts are found ($from_gateway)" test "${from_gateway:-0}" -ge 60

# The real CLI against the real gateway: what a clerk reads when something is refused.
init_deployment
start_gateway
add_principal dinkes-malut producer
P=$WORK/dinkes-malut
in_lang() { local lang=$1; shift; LANG=$lang "$@" 2>&1 >/dev/null; }
MISSING=0123456789abcdef0123456789abcdef

# A refusal by the gateway: the status title and a fixed detail in Indonesian, the request id kept.
said=$(in_lang id_ID.UTF-8 "$SERAMBI" pull "$MISSING" -o "$WORK/x" -q --profile "$P")
contains "a refusal is said in Indonesian" "gateway menolak: 404 Tidak ditemukan: paket tidak ditemukan" "$said"
contains "with the request id to quote" "(permintaan " "$said"
said=$(in_lang C.UTF-8 "$SERAMBI" pull "$MISSING" -o "$WORK/x" -q --profile "$P")
contains "and in English otherwise" "the gateway refused: 404 Not Found: no such package" "$said"
contains "with the request id to quote" "(request " "$said"
# A profile that says id decides, whatever the locale.
"$SERAMBI" profile language id --profile "$P" >/dev/null 2>&1
contains "the profile's language decides" "paket tidak ditemukan" \
    "$(in_lang C.UTF-8 "$SERAMBI" pull "$MISSING" -o "$WORK/x" -q --profile "$P")"
"$SERAMBI" profile language en --profile "$P" >/dev/null 2>&1
contains "both ways" "no such package" "$(in_lang id_ID.UTF-8 "$SERAMBI" pull "$MISSING" -o "$WORK/x" -q --profile "$P")"
"$SERAMBI" profile language auto --profile "$P" >/dev/null 2>&1

# A check of the CLI's own, before anything is sent.
contains "a check of the CLI's own, in Indonesian" "bukan id webhook" \
    "$(in_lang id_ID.UTF-8 "$SERAMBI" hook remove nope --profile "$P")"
contains "and in English" "is not a webhook id" "$(in_lang C.UTF-8 "$SERAMBI" hook remove nope --profile "$P")"
# A code for `hook confirm` on standard input: a file piped in by mistake is refused after one
# line's worth, in either language, before anything is sent.
HOOK_ID=hook-0123456789abcdef
refuse_saying "a long line where a code should be is refused" "give the code" \
    bash -c 'head -c 1000000 /dev/zero | tr "\0" A | "$1" hook confirm "$2" --profile "$3"' _ "$SERAMBI" "$HOOK_ID" "$P"
contains "in Indonesian too" "berikan kode" \
    "$(in_lang id_ID.UTF-8 "$SERAMBI" hook confirm "$HOOK_ID" --profile "$P" </dev/null)"
# A gateway that does not answer.
stop_gateway
said=$(in_lang id_ID.UTF-8 "$SERAMBI" ls --profile "$P")
contains "a gateway that does not answer, in Indonesian" "tidak dapat" "$said"
check "no English left in that message" bash -c '! grep -qi "cannot\|refused" <<<"$1"' _ "$said"
# Machine output stays the same in every language, a status's "error" included.
error=$(LANG=id_ID.UTF-8 "$SERAMBI" status --json --profile "$P" 2>/dev/null | json_field error)
same "status --json says its error in English whatever the language" \
    "$(LANG=C.UTF-8 "$SERAMBI" status --json --profile "$P" 2>/dev/null | json_field error)" "$error"
contains "and it is the connection's failure" "connect" "$error"

finish
