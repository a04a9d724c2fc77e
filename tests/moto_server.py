"""moto's server, with every request handled under one lock.

moto's backends are not thread-safe: concurrent TransactWriteItems calls fail with
"dictionary changed size during iteration", and two transactions could interleave their
condition checks. Real DynamoDB runs each transaction atomically. Serialising requests
makes the emulator keep that promise, so the concurrency tests exercise our guards rather
than moto's races. Usage: python tests/moto_server.py -H 127.0.0.1 -p PORT
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def serialised(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        with lock:
            # Drain the response inside the lock: moto builds it lazily from shared state.
            return list(app(environ, start_response))

    return handle


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialised(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
