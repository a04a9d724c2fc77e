#!/usr/bin/env bash
# The local loop: the three functions' real binaries under `cargo lambda watch`, against
# moto as SNS and DynamoDB, fed every file in events/.
#
#   infra/local-loop.sh          invoke each function with each of its events; print the
#                                answers and every message SNS received
#   infra/local-loop.sh --e2e    the end-to-end scenario (screened → hidden → support
#                                alerted → strike recorded → level-change alert), asserted
#
# Needs only what tests/run.sh needs: Rust, Python 3 with venv, the package registries.
# Everything it starts (moto, the watchers, the functions) is stopped when it ends,
# however it ends. Logs: target/local-loop/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. "$root/tests/venv.sh"
# cargo-lambda (and its zig) come from .venv; `cargo lambda` finds them on PATH.
export PATH="$venv/bin:$PATH"
exec "$venv/bin/python" "$root/infra/local_loop.py" "$@"
