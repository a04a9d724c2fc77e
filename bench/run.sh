#!/usr/bin/env bash
# One command for every speed and memory figure of anshin, with the peers measured in the
# same run, written to docs/BENCHMARKS.md (table + plot).
#
#   bench/run.sh                      # build this tree (release), measure it as "after"
#   bench/run.sh --label before --anshin /path/to/older/anshin
#                                     # measure a binary built from another commit
#
# Each run stores its figures in bench/results/<label>.json; the note shows every stored
# result side by side, with ratios against the first ("before") and against the peers.
# Not part of tests/run.sh: it takes several minutes and its figures are not assertions.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

label=after
anshin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --label) label=$2; shift 2 ;;
    --anshin) anshin=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [--label NAME] [--anshin BINARY]" >&2; exit 2 ;;
  esac
done

extra="$root/bench/work/extra-$label.json"
mkdir -p "$root/bench/work" "$root/bench/results"
echo '{}' > "$extra"
if [ -z "$anshin" ]; then
  echo "bench: building anshin (release)" >&2
  cargo build --release --quiet --bin anshin
  anshin="$root/target/release/anshin"
  # The three functions' bootstrap sizes, when their release builds are there.
  python3 - "$extra" "$root/target/release" <<'EOF'
import json, os, sys
extra, release = sys.argv[1], sys.argv[2]
sizes = {f: os.path.getsize(os.path.join(release, f)) for f in ("screen-submission", "report-intake", "user-escalation", "anshin") if os.path.exists(os.path.join(release, f))}
json.dump({"binary_bytes": sizes}, open(extra, "w"))
EOF
  if [ -x "$root/target/release/screen-submission" ]; then
    python3 bench/lambda_cold.py "$root/target/release/screen-submission" "$extra"
  fi
fi

# The peers' own virtual environment, (re)built when bench/requirements.txt changes.
venv="$root/bench/.venv"
want=$(sha256sum bench/requirements.txt | cut -d' ' -f1)
if [ ! -f "$venv/.requirements.sha256" ] || [ "$(cat "$venv/.requirements.sha256")" != "$want" ]; then
  echo "bench: installing bench/requirements.txt into bench/.venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/requirements.txt
  echo "$want" > "$venv/.requirements.sha256"
fi

python3 bench/bench.py --anshin "$anshin" --label "$label" --python "$venv/bin/python" \
  --extra "$extra" --out "bench/results/$label.json"
python3 bench/report.py bench/results docs/BENCHMARKS.md
# The plot, drawn with plotters from the stored results.
cargo run --quiet --example bench_plot -- bench/results docs/bench-time-per-posting.svg
echo "bench: wrote docs/BENCHMARKS.md and docs/bench-time-per-posting.svg" >&2
