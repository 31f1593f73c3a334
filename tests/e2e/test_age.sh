# `serambi age` against the stock age tool from Debian, both ways: keys, files of awkward sizes,
# several recipients, pipes; and refusals that leave nothing behind.
source "$(dirname "$0")/lib.sh"
command -v age >/dev/null && command -v age-keygen >/dev/null || { fail "the age tool is installed (make deps)"; finish; }
cd "$WORK"
"$SERAMBI" age keygen -o ours.key 2>ours.pub
age-keygen -o theirs.key 2>/dev/null
OURS=$(grep -o 'age1[a-z0-9]*' ours.pub)
THEIRS=$(age-keygen -y theirs.key)
same "our identity file is private (0600)" 600 "$(stat -c %a ours.key)"
same "age-keygen -y reads our identity and finds the same recipient" "$OURS" "$(age-keygen -y ours.key)"
same "we read age-keygen's identity and find the same recipient" "$THEIRS" "$("$SERAMBI" age recipient -i theirs.key)"
refuse_saying "keygen never overwrites an identity" "exists" "$SERAMBI" age keygen -o ours.key

for size in 0 1 65535 65536 65537 200000 1048577; do
    head -c "$size" /dev/urandom > "p$size"
    "$SERAMBI" age encrypt -r "$OURS" -r "$THEIRS" -o "ours$size.age" "p$size"
    check "size $size: age decrypts ours with its key" cmp <(age -d -i theirs.key "ours$size.age") "p$size"
    check "size $size: age decrypts ours with our key" cmp <(age -d -i ours.key "ours$size.age") "p$size"
    age -r "$OURS" -o "theirs$size.age" "p$size"
    "$SERAMBI" age decrypt -i ours.key -o "back$size" "theirs$size.age"
    check "size $size: we decrypt age's" cmp "back$size" "p$size"
done
head -c 300000 /dev/urandom > piped
check "pipes work both ways" bash -c "'$SERAMBI' age encrypt -r '$THEIRS' < piped | age -d -i theirs.key | cmp - piped"
check "and the other way round" bash -c "age -r '$OURS' < piped | '$SERAMBI' age decrypt -i ours.key | cmp - piped"

# Refusals: nothing is written in place, and the message says what failed.
refuse_saying "a file for someone else is refused" "no identity matches" "$SERAMBI" age decrypt -i theirs.key -o nothing theirs200000.age
check "and nothing is left where the output would go" test ! -e nothing -a -z "$(ls nothing.part-* 2>/dev/null)"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-5] ^= 1; open(sys.argv[2], "wb").write(b)' theirs1048577.age tampered.age
refuse_saying "a tampered payload is refused" "does not authenticate" "$SERAMBI" age decrypt -i ours.key -o tampered.out tampered.age
check "and no partial plaintext is left on disk" test ! -e tampered.out -a -z "$(ls tampered.out.part-* 2>/dev/null)"
head -c 100000 theirs200000.age > truncated.age
refuse_saying "a truncated file is refused" "age payload" "$SERAMBI" age decrypt -i ours.key -o truncated.out truncated.age
sed '2s/^-> X25519 /-> X25519 A/' theirs1.age > header.age
refuse_saying "a damaged header is refused" "age header" "$SERAMBI" age decrypt -i ours.key -o header.out header.age
# The last character changed (to q, or to p when it already is q: a fixed q passed 1 run in 32).
TYPO=${OURS%?}q
[ "$TYPO" == "$OURS" ] && TYPO=${OURS%?}p
refuse_saying "a recipient with a typo is refused" "not an age X25519 recipient" "$SERAMBI" age encrypt -r "$TYPO" -o x.age p1
refuse_saying "an identity file with a bad line names the line" "theirs-bad.key:3" bash -c "sed 's/^AGE-SECRET-KEY-1/AGE-SECRET-KEY-2/' theirs.key > theirs-bad.key; '$SERAMBI' age decrypt -i theirs-bad.key -o y ours1.age"
finish
