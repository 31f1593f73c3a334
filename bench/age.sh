#!/usr/bin/env bash
# age v1 encryption and decryption of one file, `serambi age` against the stock age tool, in the
# same run. Files live in /dev/shm so that the disk does not set the pace; each figure is the best
# of AGE_BENCH_RUNS wall times.
#   bench/age.sh                       # 1 GiB, best of 3
#   AGE_BENCH_MB=64 bench/age.sh       # quick look
set -euo pipefail
SERAMBI=$(realpath "${SERAMBI_BIN:-build/cli/serambi}")
MB=${AGE_BENCH_MB:-1024}
RUNS=${AGE_BENCH_RUNS:-3}
command -v age >/dev/null || { echo "bench/age.sh: the age tool is needed (apt-get install age)"; exit 1; }
DIR=$(mktemp -d /dev/shm/serambi-age-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
head -c $((MB << 20)) /dev/urandom > plain
"$SERAMBI" age keygen -o id 2>/dev/null
R=$(age-keygen -y id)

best() { # COMMAND...: the best wall time of RUNS, in seconds
    local best=
    for _ in $(seq 1 "$RUNS"); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@"
        t1=$(date +%s.%N)
        best=$(python3 -c "import sys; t=float(sys.argv[2])-float(sys.argv[1]); b=sys.argv[3]; print(t if not b else min(t, float(b)))" "$t0" "$t1" "$best")
    done
    echo "$best"
}

enc_serambi=$(best "$SERAMBI" age encrypt -r "$R" -o s.age plain)
enc_age=$(best age -r "$R" -o a.age plain)
dec_serambi=$(best "$SERAMBI" age decrypt -i id -o s.out a.age)
dec_age=$(best age -d -i id -o a.out s.age)
cmp s.out plain && cmp a.out plain

python3 - "$MB" "$enc_serambi" "$enc_age" "$dec_serambi" "$dec_age" <<'EOF'
import sys
mb = float(sys.argv[1]); es, ea, ds, da = map(float, sys.argv[2:])
print(f"age v1 X25519, {int(mb)} MiB in /dev/shm, best of runs (serambi / age; above 1.00x: serambi faster)")
print(f"  encrypt: {es:.3f} s ({mb/es:.0f} MiB/s) / {ea:.3f} s ({mb/ea:.0f} MiB/s)  = {ea/es:.2f}x")
print(f"  decrypt: {ds:.3f} s ({mb/ds:.0f} MiB/s) / {da:.3f} s ({mb/da:.0f} MiB/s)  = {da/ds:.2f}x")
print(f"RESULT age_encrypt_ratio={ea/es:.2f}\nRESULT age_decrypt_ratio={da/ds:.2f}")
EOF
