#!/usr/bin/env python3
"""Every `serambi …` command line in README.md and docs/*.md names subcommands and flags that the
binary has: each is checked against the `--help` of the subcommand it names. A guide that tells an
operator to type a command that does not parse is a bug.

Usage: check_doc_commands.py SERAMBI_BINARY"""
import os
import pathlib
import re
import shlex
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = sys.argv[1]
help_cache = {}
# The help in English, whatever the locale or profile of whoever runs this: in Bahasa Indonesia
# the headings are not "Subcommands:".
ENGLISH = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "SERAMBI_PROFILE")}
ENGLISH["LANG"] = "C.UTF-8"


def help_of(path):
    """The --help text of `serambi PATH...`, its subcommands and its flags."""
    key = tuple(path)
    if key not in help_cache:
        out = subprocess.run([BINARY, *path, "--help"], capture_output=True, text=True, timeout=30, env=ENGLISH)
        text = out.stdout + out.stderr
        subcommands, in_subcommands = set(), False
        for line in text.splitlines():
            if line.startswith("Subcommands:"):
                in_subcommands = True
                continue
            if in_subcommands:
                m = re.match(r"  (\S+)", line)
                if m:
                    subcommands.add(m.group(1))
                elif line.strip() == "":
                    in_subcommands = False
        flags = set(re.findall(r"(--[a-z0-9][a-z0-9-]*)", text))
        help_cache[key] = (out.returncode, subcommands, flags)
    return help_cache[key]


def command_lines(text):
    """`serambi …` invocations: (text after `serambi`, whether it is inline code). Code blocks are
    joined across continuation lines."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            # `sudo -u serambi serambi init …`: the user, then the command.
            line = re.sub(r"-u serambi ", "-u USER ", line)
            for m in re.finditer(r"(?:^|[\s;&|(`$])serambi (.*)", line):
                found.append((m.group(1), False))
    for m in re.finditer(r"`serambi ([^`\n]+)`", text):
        found.append((m.group(1), True))
    return found


def words_of(rest):
    # The command ends where the shell would start something else, or a comment begins.
    rest = re.split(r"\s(?:\||&&|;|#|>|<|2>)\s?|\)$|`", rest)[0]
    try:
        return shlex.split(rest, comments=False)
    except ValueError:
        return rest.split()


problems, checked = [], 0
for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
    for rest, inline in command_lines(doc.read_text(encoding="utf-8")):
        words = words_of(rest)
        if not words or words[0] in ("…", "...") or words[0].startswith(("<", "[")):
            continue
        path = []
        while words and help_of(path)[1] and words[0] in help_of(path)[1]:
            path.append(words.pop(0))
        code, subcommands, flags = help_of(path)
        if subcommands and not path:
            # Inline code that starts with no subcommand quotes the server's log ("serambi gateway
            # listening on …"), not a command.
            if words and re.fullmatch(r"[a-z][a-z-]+", words[0]) and not inline:
                problems.append(f"{doc.name}: `serambi {rest.strip()}`: no subcommand {words[0]!r}")
            continue
        if subcommands and words and re.fullmatch(r"[a-z][a-z-]+", words[0]) and words[0] not in subcommands:
            problems.append(f"{doc.name}: `serambi {rest.strip()}`: {' '.join(path)} has no subcommand {words[0]!r}")
            continue
        for word in words:
            m = re.match(r"(--[a-z0-9][a-z0-9-]*)", word)
            if m and m.group(1) not in flags:
                problems.append(f"{doc.name}: `serambi {rest.strip()}`: {' '.join(path)} has no flag {m.group(1)}")
        checked += 1

for p in problems:
    print("FAIL - " + p)
print(f"{checked} command lines checked, {len(problems)} problem(s)")
sys.exit(1 if problems or checked < 50 else 0)
