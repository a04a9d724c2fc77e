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

. "$root/tests/moto.sh"

# Build every test target once; the runs below reuse it.
cargo test --workspace --all-targets --no-run "$@"

# The data step: pinned public datasets fetched and checked, near-duplicates removed.
"$venv/bin/python" "$root/shared/model/test_sources.py"

# The shipped model must be exactly what the training script makes from the repo's data:
# retrain (features from this build's `anshin featurize`) and compare hashes. Without
# ../shared/data beside the checkout, --fetch first brings the pinned public datasets (and
# fails clearly when it cannot); with it, --fetch has nothing to do.
"$venv/bin/python" "$root/shared/model/train.py" --fetch
# The full retrain (`--check`: eight folds and the final fit per category, eight minutes of
# both cores) would be a third of CI; CI redoes the data step, the features and every final
# fit with the manifest's calibration (`--check-final`, about a minute and a half), which
# must give the shipped model's bytes. `train.py --check` is the whole proof, run by hand
# after a retrain. The featurizer is the binary just built.
ANSHIN_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/anshin" \
  "$venv/bin/python" "$root/shared/model/train.py" --check-final

cargo test --workspace --all-targets "$@"

# The deployable stack, checked statically: cfn-lint must report nothing, checkov no failed
# check (a skip is allowed only in the template itself, with its reason beside it).
# --skip-download keeps checkov from calling home; it has no network here anyway.
echo "tests/run.sh: cfn-lint and checkov on infra/template.yaml" >&2
"$venv/bin/cfn-lint" infra/template.yaml
"$venv/bin/checkov" --file infra/template.yaml --framework cloudformation --quiet --compact --skip-download
# Who may write which keys and publish which commands: checks neither tool knows to make.
"$venv/bin/python" tests/template_policy.py

# The published JSON Schemas (schemas/) against every fixture and the verdicts screened
# from them; shared/tests/schemas.rs has already checked they are what the types generate.
"$venv/bin/python" tests/check_schemas.py

# End to end through the Lambda runtime API: the real function binaries under
# `cargo lambda watch`, against a moto of their own. After `cargo test`, because a watcher
# started inside `cargo test` would wait on the build-directory lock the tests hold.
stop_moto
echo "tests/run.sh: end-to-end through cargo lambda watch (infra/local-loop.sh --e2e)" >&2
PATH="$venv/bin:$PATH" "$venv/bin/python" infra/local_loop.py --e2e

# --- support console ---
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

