#!/usr/bin/env bash
# The full fault-injection soak (tests/integration/faults.rs at ANSHIN_SOAK=full): 300
# violations, 100 revokes and 10,500 reports (10,000 against one target) from concurrent tasks,
# with 10% of DynamoDB and SNS calls faulted, against a moto of its own. CI runs the same test
# at a smaller size inside tests/run.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. "$root/tests/venv.sh"
. "$root/tests/moto.sh"
export ANSHIN_SOAK=full
cargo test --test integration faults -- --nocapture
