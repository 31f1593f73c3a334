#!/usr/bin/env bash
# One bounded fuzz run for ctest: the target works on a scratch copy of its committed corpus, so
# what it learns stays in the build directory and the repository's corpus is never changed.
# A crash, leak or sanitizer report fails the test and leaves its input in the work directory.
#   run_fuzzer.sh FUZZER CORPUS_DIR WORK_DIR SECONDS
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 seconds=$4
rm -rf "$work"
mkdir -p "$work/corpus"
cp -R "$corpus"/. "$work/corpus/"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus"
