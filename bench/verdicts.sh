#!/usr/bin/env bash
# Screens every evaluation file with one anshin binary and stores the verdicts, one file
# each, so that two binaries can be compared byte for byte (a speed change must not change
# a verdict):
#
#   bench/verdicts.sh OLD_BINARY /tmp/verdicts-before
#   bench/verdicts.sh target/release/anshin /tmp/verdicts-after
#   diff -r /tmp/verdicts-before /tmp/verdicts-after && echo identical
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
binary=$1
out=$2
mkdir -p "$out"
inputs=("$root"/shared/model/corpus/*.jsonl "$root/shared/policy/dev-examples.jsonl")
[ -f "$root/../shared/data/policy-eval/marketplace-ja.jsonl" ] && inputs+=("$root/../shared/data/policy-eval/marketplace-ja.jsonl")
inputs+=("$root"/shared/model/redteam/*.jsonl)
for input in "${inputs[@]}"; do
  name=$(basename "$input" .jsonl)
  # Exit 1 means some lines were refused (reported on stderr); their verdicts still count.
  "$binary" screen "$input" > "$out/$name.verdicts.jsonl" 2> "$out/$name.stderr" || [ $? -eq 1 ]
  echo "$name: $(wc -l < "$out/$name.verdicts.jsonl") verdicts" >&2
done
