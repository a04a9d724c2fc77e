# Sourced by tests/run.sh and tests/soak.sh: starts moto (tests/moto_server.py) on a free
# loopback port, waits until it answers, and exports what the tests read to reach it.
# Sets $endpoint and stop_moto (installed as the EXIT trap). Expects $root and $venv.

# Ask the kernel for a free port rather than guessing one that may be taken.
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$root/target"
moto_log="$root/target/moto-$port.log"
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
    echo "moto exited; its log:" >&2
    cat "$moto_log" >&2
    exit 1
  fi
  sleep 0.2
done
curl -fsS -o /dev/null "$endpoint/moto-api/" || { echo "moto did not answer on $endpoint" >&2; exit 1; }
echo "moto on $endpoint" >&2

export ANSHIN_TEST_AWS_ENDPOINT="$endpoint"
export ANSHIN_TEST_PYTHON="$venv/bin/python"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
# Keep stray real credentials or profiles from leaking into the emulator tests.
unset AWS_PROFILE AWS_SESSION_TOKEN
