"""Every unit test must run under ctest. catch_discover_tests hands each name to CMake, which
splits a name at ';', and Catch reads '[' as the start of a tag: a test named with either never
runs under ctest, and ctest still reports it as passed ("No tests ran"). This refuses such names."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent / "unit"
bad = []
for path in sorted(root.glob("*.cpp")):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for name in re.findall(r'TEST_CASE\("([^"]*)"', line):
            if ";" in name or "[" in name or "]" in name:
                bad.append(f"{path.name}:{number}: {name}")
for b in bad:
    print("test name ctest cannot run (no ';', '[' or ']'):", b)
print(f"test names: {len(bad)} problem(s)")
sys.exit(1 if bad else 0)
