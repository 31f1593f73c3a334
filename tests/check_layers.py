#!/usr/bin/env python3
"""The libraries' layering, checked on the sources: each folder includes only the folders it
depends on, a header marked "Internal" is included only from its own folder (and by tests and
benchmarks), and a public header names no third-party type (OpenSSL, libsodium, SQLite, Boost)."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Each library and what it may include; the order is the build's, bottom up.
DEPENDS = {
    "base": set(),
    "crypto": {"base"},
    "certs": {"base", "crypto"},
    "storage": {"base", "crypto"},
    "policies": {"base"},
    "web": set(),
    "witness": {"base", "crypto", "storage"},
    "gateway": {"base", "crypto", "certs", "storage", "policies", "web", "witness"},
    "cli": {"base", "crypto", "certs", "storage", "policies", "gateway", "witness"},
}
EXEMPT = {"tests", "bench"}
THIRD_PARTY = re.compile(r"#include <(openssl/|sodium|sqlite3|sqlcipher|boost/)")
PROJECT_INCLUDE = re.compile(r'#include "([a-z_]+)/([^"]+)"')


def is_internal(header: pathlib.Path) -> bool:
    first = header.read_text(encoding="utf-8").split("\n", 1)[0]
    return first.startswith("// Internal")


def main() -> int:
    problems = []
    for folder in DEPENDS:
        for source in sorted((ROOT / folder).glob("*.[ch]*")):
            text = source.read_text(encoding="utf-8")
            name = source.relative_to(ROOT)
            for lib, rest in PROJECT_INCLUDE.findall(text):
                if lib != folder and lib not in DEPENDS[folder]:
                    problems.append(f"{name}: includes {lib}/{rest}, but {folder} does not depend on {lib}")
                target = ROOT / lib / rest
                if lib != folder and target.exists() and is_internal(target):
                    problems.append(f"{name}: includes {lib}/{rest}, which is internal to {lib}/")
            if source.suffix == ".h" and not is_internal(source):
                for match in THIRD_PARTY.finditer(text):
                    problems.append(f"{name}: a public header includes <{match.group(1)}…>")
    for folder in EXEMPT:
        for source in sorted((ROOT / folder).rglob("*.[ch]*")):
            for lib, rest in PROJECT_INCLUDE.findall(source.read_text(encoding="utf-8", errors="replace")):
                if lib not in DEPENDS and lib not in EXEMPT:
                    problems.append(f"{source.relative_to(ROOT)}: includes {lib}/{rest}, which is no library")
    for line in problems:
        print(line)
    print(f"{len(problems)} layering problem(s)" if problems else "layering: every include is allowed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
