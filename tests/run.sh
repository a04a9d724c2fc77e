#!/usr/bin/env bash
# The whole test suite, against a real SNS / DynamoDB API: moto on a free loopback port.
#
#   tests/run.sh [extra cargo test args]
#
# Creates .venv/ (ignored by git) with the tools in tests/requirements.txt on first use,
# starts moto, runs every test of the workspace with the endpoint in
# ANSHIN_TEST_AWS_ENDPOINT, checks infra/template.yaml with cfn-lint and checkov, runs the
# end-to-end scenario through the real binaries (infra/local_loop.py --e2e), and stops
# moto however it all ends.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. "$root/tests/venv.sh"

# Ask the kernel for a free port rather than guessing one that may be taken.
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$root/target"
moto_log="$root/target/moto.log"
"$venv/bin/python" "$root/tests/moto_server.py" -H 127.0.0.1 -p "$port" >"$moto_log" 2>&1 &
moto_pid=$!
stop_moto() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
}
trap stop_moto EXIT INT TERM

endpoint="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$endpoint/moto-api/" 2>/dev/null; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "tests/run.sh: moto exited; its log:" >&2
    cat "$moto_log" >&2
    exit 1
  fi
  sleep 0.2
done
curl -fsS -o /dev/null "$endpoint/moto-api/" || { echo "tests/run.sh: moto did not answer on $endpoint" >&2; exit 1; }
echo "tests/run.sh: moto on $endpoint" >&2

export ANSHIN_TEST_AWS_ENDPOINT="$endpoint"
export ANSHIN_TEST_PYTHON="$venv/bin/python"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
# Keep stray real credentials or profiles from leaking into the emulator tests.
unset AWS_PROFILE AWS_SESSION_TOKEN

cargo test --workspace --all-targets "$@"

# The data step: pinned public datasets fetched and checked, near-duplicates removed.
"$venv/bin/python" "$root/shared/model/test_sources.py"

# The shipped model must be exactly what the training script makes from the repo's data:
# retrain (features from this build's `anshin featurize`) and compare hashes. Without
# ../shared/data beside the checkout, --fetch first brings the pinned public datasets (and
# fails clearly when it cannot); with it, --fetch has nothing to do.
"$venv/bin/python" "$root/shared/model/train.py" --fetch
"$venv/bin/python" "$root/shared/model/train.py" --check

# The deployable stack, checked statically: cfn-lint must report nothing, checkov no failed
# check (a skip is allowed only in the template itself, with its reason beside it).
# --skip-download keeps checkov from calling home; it has no network here anyway.
echo "tests/run.sh: cfn-lint and checkov on infra/template.yaml" >&2
"$venv/bin/cfn-lint" infra/template.yaml
"$venv/bin/checkov" --file infra/template.yaml --framework cloudformation --quiet --compact --skip-download

# End to end through the Lambda runtime API: the real function binaries under
# `cargo lambda watch`, against a moto of their own. After `cargo test`, because a watcher
# started inside `cargo test` would wait on the build-directory lock the tests hold.
stop_moto
echo "tests/run.sh: end-to-end through cargo lambda watch (infra/local-loop.sh --e2e)" >&2
PATH="$venv/bin:$PATH" "$venv/bin/python" infra/local_loop.py --e2e

# --- support console (issue 12) ---
# The console in a real headless Chromium, through the local loop: Debian's chromium and
# chromedriver, installed here when missing (root on this machine and in CI).
# A CJK font too, so that the pages (and their screenshots) show Japanese.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
   || [ -z "$(fc-list :lang=ja 2>/dev/null)" ]; then
  echo "tests/run.sh: installing chromium, chromium-driver and fonts-noto-cjk" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
fi
echo "tests/run.sh: support console in headless Chromium (infra/local-loop.sh --browser)" >&2
PATH="$venv/bin:$PATH" "$venv/bin/python" infra/local_loop.py --browser
# --- end support console ---
