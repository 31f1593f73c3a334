# Help in Bahasa Indonesia: the --help of every command, found by walking `serambi --help` and
# each command's own, says every description in Indonesian (a description added to cli/main.cpp
# without its line in the catalogue of cli/messages.cpp fails here), and the catalogue holds no
# translation of a description that no command has any more. The manual pages stay in English.
source "$(dirname "$0")/lib.sh"
SOURCE=$(realpath "$(dirname "$0")/../..")

# The same command line in both languages: the locale decides, as in test_golden.sh, with nothing
# else that could (LC_ALL, LC_MESSAGES, a profile) left set.
unset LC_ALL LC_MESSAGES SERAMBI_PROFILE

# Prints one line per problem, "KIND: what", then how many commands it walked and how many
# descriptions the catalogue has.
python3 - "$SERAMBI" "$SOURCE/cli/messages.cpp" >"$WORK/problems" <<'EOF'
import os
import re
import subprocess
import sys

BINARY, CATALOGUE = sys.argv[1], sys.argv[2]
WIDTH = 30  # CLI11's first column: a description starts there, or on the next line when the names are longer


def help_of(path, lang):
    env = dict(os.environ, LANG=lang)
    out = subprocess.run([BINARY, *path, "--help"], env=env, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        print(f"exit: serambi {' '.join(path)} --help exits {out.returncode} in {lang}")
    return out.stdout


def parse(text):
    """The description (the first line), then each section: its heading and its entries, each
    [first name, description]."""
    lines = text.split("\n")
    sections = []
    for i, line in enumerate(lines[1:], 1):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line and not line.startswith(" ") and line.endswith(":"):
            sections.append((line[:-1], []))
        elif not sections or not line.startswith("  "):
            continue
        elif line.startswith(" " * WIDTH):  # the description of names too long for the column
            sections[-1][1][-1][1] += line[WIDTH:]
        elif following.startswith(" " * WIDTH) or len(line) <= WIDTH:  # names only
            sections[-1][1].append([line.split()[0], ""])
        else:
            sections[-1][1].append([line.split()[0], line[WIDTH:]])
    return lines[0], sections


def names(sections):
    return [[name for name, _ in entries] for _, entries in sections]


commands, english_descriptions = 0, set()


def walk(path):
    global commands
    commands += 1
    where = " ".join(["serambi", *path])
    (english, sections), (indonesian, bagian) = parse(help_of(path, "C.UTF-8")), parse(help_of(path, "id_ID.UTF-8"))
    english_descriptions.add(english)
    if english == indonesian:
        print(f"untranslated: {where}: {english}")
    if names(sections) != names(bagian):
        print(f"entries: {where} --help lists other names in Indonesian")
        return
    for (_, entries), (_, entri) in zip(sections, bagian):
        for (name, description), (_, terjemahan) in zip(entries, entri):
            english_descriptions.add(description)
            if description and description == terjemahan:  # an option without one has nothing to say
                print(f"untranslated: {where}: {name}: {description}")
    for heading, entries in sections:
        if heading == "Subcommands":
            for name, _ in entries:
                walk([*path, name])


def msgids():
    """The English of every entry of kDescriptions, its adjacent string literals joined."""
    source = open(CATALOGUE, encoding="utf-8").read()
    table = source[source.index("kDescriptions[] = {") :]
    table = table[: table.index("\n};")]
    table = re.sub(r"^\s*//.*$", "", table, flags=re.M)
    ids = []
    for entry in re.finditer(r'\{((?:\s*"(?:[^"\\]|\\.)*")+)\s*,', table):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', entry.group(1))
        ids.append(re.sub(r"\\(.)", r"\1", "".join(parts)))
    return ids


walk([])
print(f"commands: {commands}")
ids = msgids()
print(f"msgids: {len(ids)}")
for msgid in ids:
    if msgid not in english_descriptions:
        print(f"stale: no command or option has the description {msgid!r}")
EOF
problems=$(cat "$WORK/problems")
commands=$(sed -n 's/^commands: //p' <<<"$problems")
msgids=$(sed -n 's/^msgids: //p' <<<"$problems")
[ "${commands:-0}" -ge 80 ] && pass "walked the --help of $commands commands" || fail "walked only ${commands:-0} commands"
[ "${msgids:-0}" -ge 200 ] && pass "read $msgids descriptions from the catalogue" || fail "read only ${msgids:-0} descriptions"
same "every --help exits 0 in both languages" "" "$(grep '^exit:' <<<"$problems")"
same "every --help lists the same names in both languages" "" "$(grep '^entries:' <<<"$problems")"
same "every description is in Indonesian" "" "$(grep '^untranslated:' <<<"$problems")"
same "the catalogue translates no description that is gone" "" "$(grep '^stale:' <<<"$problems")"

# CLI11's words around them, and `serambi help COMMAND`, which prints the same help.
out=$(LANG=id_ID.UTF-8 "$SERAMBI" push --help)
contains "Usage in Indonesian" "Penggunaan: " "$out"
contains "the options' heading" "Opsi:" "$out"
contains "a required argument" "WAJIB" "$out"
contains "serambi help COMMAND in Indonesian" "berkas yang diunggah, masing-masing satu paket" \
    "$(LANG=id_ID.UTF-8 "$SERAMBI" help push)"
contains "and in English" "files to upload, one package each" "$(LANG=C.UTF-8 "$SERAMBI" help push)"
contains "the command list of serambi help is the same text" "  push            mengunggah berkas" \
    "$(LANG=id_ID.UTF-8 "$SERAMBI" help)"

# The profile's language, as for every other message: a profile that SERAMBI_PROFILE names (only
# its profile.toml is read, so empty key files will do).
mkdir -p "$WORK/p"
printf 'gateway = "https://127.0.0.1:1"\nprincipal = "x"\nlanguage = "id"\n' >"$WORK/p/profile.toml"
touch "$WORK/p/client.crt" "$WORK/p/client.key" "$WORK/p/ca.crt"
contains "a profile's language id wins over an English locale" "berkas yang diunggah" \
    "$(LANG=C.UTF-8 SERAMBI_PROFILE=$WORK/p "$SERAMBI" push --help)"
sed -i 's/^language = .*/language = "en"/' "$WORK/p/profile.toml"
contains "and en over an Indonesian one" "files to upload" \
    "$(LANG=id_ID.UTF-8 SERAMBI_PROFILE=$WORK/p "$SERAMBI" push --help)"
contains "serambi help follows the same profile" "  push            upload files" \
    "$(LANG=id_ID.UTF-8 SERAMBI_PROFILE=$WORK/p "$SERAMBI" help)"

# The manual pages are in English whatever the language (a package build makes them in whatever
# locale it has).
check "serambi man in an Indonesian locale" env LANG=id_ID.UTF-8 "$SERAMBI" man --out "$WORK/man"
page=$(cat "$WORK/man/serambi-push.1" "$WORK/man/serambi.1")
contains "the pages keep the English descriptions" "files to upload, one package each" "$page"
same "and have none of the Indonesian" "" "$(grep -e 'berkas yang diunggah' -e 'mengunggah berkas' <<<"$page")"
finish
