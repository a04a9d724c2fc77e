"""Cold start of screen-submission under the Lambda runtime API: exec to first verdict.

A minimal runtime API on loopback (the three calls `lambda_runtime` makes: next
invocation, response, error) hands the bootstrap one event from events/, and the time
from exec to the response POST is the cold start. The bootstrap runs with rules and the
embedded model as deployed; SNS is pointed at a closed loopback port — the sample event is
an `allow`, so nothing is published. Adds `lambda_cold_start_ms` and
`lambda_peak_memory_mb` to the JSON file given.

    python3 bench/lambda_cold.py target/release/screen-submission bench/work/extra.json
"""

import http.server
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 11


def one_run(binary, event):
    done = threading.Event()
    state = {"served": False, "answered_at": None, "status": None}

    class Runtime(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.endswith("/invocation/next") and not state["served"]:
                state["served"] = True
                body = event
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-1")
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:bench")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                done.wait(5)  # the next poll after the answer: hold it until the run ends
                self.send_response(500)
                self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            self.rfile.read(length)
            state["answered_at"] = time.perf_counter()
            state["status"] = "response" if self.path.endswith("/response") else "error"
            self.send_response(202)
            self.end_headers()
            done.set()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "screen-submission",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "ANSHIN_ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:alerts",
        "ANSHIN_ESCALATION_TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:escalation",
        # The screening ledger and the case key: read at cold start, never reached by an
        # allow.
        "ANSHIN_TABLE": "anshin-bench",
        "ANSHIN_CASE_KEY_ID": "arn:aws:kms:us-east-1:000000000000:key/bench",
        "RUST_LOG": "warn",
    })
    started = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done.wait(30)
    proc.terminate()
    proc.wait()
    # The largest resident set of any child reaped so far: the bootstraps are this
    # script's only children, and the figure kept is the largest run's anyway.
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    server.shutdown()
    if state["status"] != "response":
        raise SystemExit(f"lambda_cold: the bootstrap answered {state['status']}")
    return (state["answered_at"] - started) * 1e3, peak_kb / 1024


def main():
    binary, extra_path = sys.argv[1], Path(sys.argv[2])
    events = sorted((ROOT / "events/screen-submission").glob("*.json"))
    event = next(p for p in events if "allow" in p.name or "clean" in p.name or "ordinary" in p.name)
    runs = [one_run(binary, event.read_bytes()) for _ in range(RUNS)]
    extra = json.loads(extra_path.read_text()) if extra_path.exists() else {}
    extra["lambda_cold_start_ms"] = {"p50": statistics.median(r[0] for r in runs), "runs": RUNS, "event": event.name}
    extra["lambda_peak_memory_mb"] = max(r[1] for r in runs)
    extra_path.write_text(json.dumps(extra))
    print(f"lambda cold start p50 {extra['lambda_cold_start_ms']['p50']:.1f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
