# `serambi audit tail --follow` as a stream (server-sent events on GET /v1/audit/follow): new
# entries arrive as they are written, the follow session is one access-log entry when it opens
# and one when it closes (not one per poll), a reconnect resumes after the last entry seen
# (Last-Event-ID), and only auditors may follow.
source "$(dirname "$0")/lib.sh"
init_deployment
start_gateway
add_principal inspektorat auditor
add_principal dinkes-malut producer
A=$WORK/inspektorat
P=$WORK/dinkes-malut
"$SERAMBI" dataset create dinkes-malut/gizi --class biasa --title Gizi --profile "$ADMIN" >/dev/null
printf 'a,b\n1,2\n' >"$WORK/data.csv"
pushes_in() { [ "$(grep -c '"package.push"' "$1")" -ge "$2" ]; } # FILE N: at least N pushes followed
closed_entries_at_least() { [ "$(entries audit.follow.closed)" -ge "$1" ]; }
entries() { # ACTION: how many entries of the log have this action
    "$SERAMBI" audit export -o "$WORK/count.jsonl" --profile "$A" >/dev/null 2>&1
    python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("action") == sys.argv[2]))' \
        "$WORK/count.jsonl" "$1"
}

"$SERAMBI" audit tail -n 0 --follow --profile "$A" >"$WORK/followed.jsonl" 2>"$WORK/follow.err" &
FOLLOW=$!
sleep 1
for i in 1 2 3; do
    "$SERAMBI" push dinkes-malut/gizi "$WORK/data.csv" -q --no-proof --allow-duplicate --profile "$P" >/dev/null
done
check "the pushes reach the follower as they are logged" \
    wait_for 10 pushes_in "$WORK/followed.jsonl" 3
sleep 3  # several polls of the gateway's: none of them may be an entry
same "the follow session is one entry while it is open, not one per poll" 1 "$(entries audit.follow)"
same "and it has not closed yet" 0 "$(entries audit.follow.closed)"
check "every line followed is an entry as logged" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert o["action"] and o["time"], line' "$WORK/followed.jsonl"
kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null
# The gateway learns that the follower left when a write fails: at the next entry, or at the
# next heartbeat (every 5 s) when nothing happens.
"$SERAMBI" push dinkes-malut/gizi "$WORK/data.csv" -q --no-proof --allow-duplicate --profile "$P" >/dev/null
"$SERAMBI" push dinkes-malut/gizi "$WORK/data.csv" -q --no-proof --allow-duplicate --profile "$P" >/dev/null
check "when the follower leaves, an entry closes the session" wait_for 40 closed_entries_at_least 1
same "one" 1 "$(entries audit.follow.closed)"
"$SERAMBI" audit export -o "$WORK/log.jsonl" --profile "$A" >/dev/null
closed=$(grep '"audit.follow.closed"' "$WORK/log.jsonl")
contains "saying how many entries it delivered" '"reason":"closed after ' "$closed"
contains "and why it ended" "the client left" "$closed"
same "by the auditor" inspektorat "$(echo "$closed" | json_field principal)"

# Over curl: the stream itself, resumed with Last-Event-ID.
last=$(($(wc -l <"$WORK/log.jsonl") - 1))
curl -sN --max-time 3 --cacert "$A/ca.crt" --cert "$A/client.crt" --key "$A/client.key" \
    -H "Last-Event-ID: $((last - 2))" "$URL/v1/audit/follow" >"$WORK/sse.txt" 2>/dev/null
contains "the answer is text/event-stream, each entry an event with its index as id" "id: $((last - 1))" "$(cat "$WORK/sse.txt")"
contains "starting after the Last-Event-ID" "event: entry" "$(head -3 "$WORK/sse.txt")"
same "the first event is the entry after the one named" "id: $((last - 1))" "$(head -1 "$WORK/sse.txt")"
same "and each event's data is that entry of the log, byte for byte" "$(sed -n "$((last))p" "$WORK/log.jsonl")" \
    "$(sed -n 3p "$WORK/sse.txt" | sed 's/^data: //')"
same "start beyond the end is refused" 400 "$(status "$A" "$URL/v1/audit/follow?start=99999999")"
same "a Last-Event-ID that is not an index is refused" 400 "$(status "$A" -H 'Last-Event-ID: 1; DROP' "$URL/v1/audit/follow")"
same "a producer may not follow the log (it does not even learn the route exists)" 404 \
    "$(status "$P" --max-time 3 "$URL/v1/audit/follow")"

# A follower far behind catches up, every entry once, in order.
size=$("$SERAMBI" audit checkpoint --profile "$A" | sed -n 2p)
curl -sN --max-time 4 --cacert "$A/ca.crt" --cert "$A/client.crt" --key "$A/client.key" \
    "$URL/v1/audit/follow?start=0" >"$WORK/all.txt" 2>/dev/null
check "start=0 sends the whole log, each index once and in order, from 0" python3 -c '
import sys
ids = [int(l[4:]) for l in open(sys.argv[1]) if l.startswith("id: ")]
assert ids[: int(sys.argv[2])] == list(range(int(sys.argv[2]))), ids[:10]' "$WORK/all.txt" "$size"

# Streams are few: two per principal, so that one auditor cannot hold the gateway's connections.
# The streams of the curl calls above hold their places until the gateway notices that their
# clients left: wait for that first, or the two below could be the ones refused.
streams_opened() { # how many streams were opened (answered 200), from the export `entries` made
    python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("action") == "audit.follow" and json.loads(l).get("status") == 200))' \
        "$WORK/count.jsonl"
}
all_streams_closed() { local closed; closed=$(entries audit.follow.closed); [ "$closed" -ge "$(streams_opened)" ]; }
check "(the earlier streams are closed first)" wait_for 40 all_streams_closed
for i in 1 2; do
    curl -sN --max-time 20 --cacert "$A/ca.crt" --cert "$A/client.crt" --key "$A/client.key" \
        "$URL/v1/audit/follow" >/dev/null 2>&1 &
    eval "HOLD$i=\$!"
done
sleep 1
same "a third stream of the same auditor is refused for now (503)" 503 "$(status "$A" --max-time 5 "$URL/v1/audit/follow")"
contains "saying why" "too many event streams" "$(cat "$WORK/last_body")"
held=$(entries audit.follow.closed)
kill "$HOLD1" "$HOLD2" 2>/dev/null
wait "$HOLD1" "$HOLD2" 2>/dev/null
check "streams whose client left silently are closed (and their places freed) within seconds" \
    wait_for 40 closed_entries_at_least $((held + 2))
same "an HTTP/1.0 client cannot open one (it has no chunked bodies)" 400 \
    "$(status "$A" --http1.0 --max-time 5 "$URL/v1/audit/follow")"

# The gateway stopping ends every stream with its closing entry first.
"$SERAMBI" audit tail -n 0 --follow --profile "$A" >"$WORK/followed2.jsonl" 2>"$WORK/follow2.err" &
FOLLOW=$!
sleep 1
before=$(entries audit.follow.closed)
stop_gateway  # which checks that it stopped cleanly, a follower attached
start_gateway
"$SERAMBI" audit export -o "$WORK/log2.jsonl" --profile "$A" >/dev/null
contains "the follower's session was closed in the log before the gateway stopped" "the gateway is stopping" \
    "$(grep '"audit.follow.closed"' "$WORK/log2.jsonl")"
# The follower itself comes back on its own and goes on where it was.
"$SERAMBI" push dinkes-malut/gizi "$WORK/data.csv" -q --no-proof --allow-duplicate --profile "$P" >/dev/null
check "the follower reconnects after the restart and gets the next push" \
    wait_for 20 pushes_in "$WORK/followed2.jsonl" 1
kill "$FOLLOW" 2>/dev/null
wait "$FOLLOW" 2>/dev/null
"$SERAMBI" audit key --profile "$A" >"$WORK/log.vkey"
check "the whole log still verifies" "$SERAMBI" audit verify --export "$WORK/log2.jsonl" \
    --checkpoint "$WORK/log2.jsonl.checkpoint" --key "$WORK/log.vkey"
finish
