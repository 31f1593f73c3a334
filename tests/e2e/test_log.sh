# The server log: text by default; with [log] format = "json" one JSON object a line (time, level,
# message) that a log shipper can parse; with level = "warning" no line per request, warnings and
# errors still written. A wrong value is refused at start, naming the key and the line.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
check "the default log is text: a timestamp, then the message" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z serambi gateway listening' "$WORK/gateway.log"
stop_gateway

python3 - "$DEP/serambi.toml" <<'PYEOF'
import sys
p = sys.argv[1]
s = open(p).read().replace('format = "text"', 'format = "json"')
open(p, "w").write(s)
PYEOF
: >"$WORK/gateway.log"
start_gateway
api "$ADMIN" -s -o /dev/null "$URL/v1/whoami"
stop_gateway
check "with format = json every line is a JSON object with time, level and message" python3 - "$WORK/gateway.log" <<'PYEOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert len(lines) >= 3, lines
for l in lines:
    o = json.loads(l)
    assert set(o) == {"time", "level", "message"}, o
    assert o["level"] in ("info", "warning", "error"), o
assert any(json.loads(l)["message"].startswith("request ") for l in lines)
PYEOF

set_config level '"warning"'
set_config format '"text"'
: >"$WORK/gateway.log"
start_gateway
api "$ADMIN" -s -o /dev/null "$URL/v1/whoami"
stop_gateway
refuse "with level = warning no request is logged" grep -q " request " "$WORK/gateway.log"
refuse "nor the start" grep -q "listening" "$WORK/gateway.log"

set_config level '"loud"'
out=$("$SERAMBI" serve --config "$DEP/serambi.toml" 2>&1)
same "a wrong level stops the start" 2 "$?"
contains "naming the key and its line" "log.level" "$out"
contains "and what it may be" 'expected "info", "warning" or "error"' "$out"
finish
