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


def cheap_transaction_backups():
    """moto backs up every table a transaction touches with `copy.deepcopy` — all its items
    and its stream shard, the table's whole change history — so each transaction copied
    everything written so far: time and memory grew with the square of the writes, and a
    soak of a few thousand calls held 20 GiB. Requests run one at a time here (see
    `serialised`), so a transaction needs to take back only what it touched: this saves the
    items its operations name, lets moto run it without the table copy, and on failure puts
    those items back and drops the stream records it had appended (a cancelled transaction
    leaves none on DynamoDB either)."""
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    real_copy = backend_module.copy

    class TablesUncopied:
        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else real_copy.deepcopy(value, memo)

    backend_module.copy = TablesUncopied
    transact = DynamoDBBackend.transact_write_items

    def touched(backend, transact_items):
        """(table, hash, range, a copy of the item as it is now or None) per operation."""
        for entry in transact_items:
            try:
                op = next(iter(entry.values()))
                table = backend.tables[op["TableName"]]
                key = op.get("Key") or op["Item"]
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = (DynamoType(key[table.range_key_attr])
                               if table.range_key_attr is not None else None)
                current = table.get_item(hash_value, range_value)
            except Exception:  # noqa: BLE001 - malformed: moto refuses it, changing nothing
                continue
            yield table, hash_value, range_value, real_copy.deepcopy(current)

    def put_back(table, hash_value, range_value, saved):
        if range_value is None:
            if saved is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = saved
        elif saved is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = saved

    def transact_write_items(self, transact_items):
        saved = list(touched(self, transact_items))
        streams = [(t.stream_shard, len(t.stream_shard.items)) for t in self.tables.values()
                   if t.stream_shard is not None]
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                put_back(table, hash_value, range_value, item)
            for shard, length in streams:
                del shard.items[length:]
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


def unsorted_query_candidates():
    """moto answers a Query by sorting every item of the table (DynamoType comparisons in
    Python), then filtering for the key condition and sorting the matches again by the
    queried keys. The first sort decides nothing but the order of items whose queried keys
    tie, which DynamoDB does not promise either, and on a table of 40,000 items it cost
    seconds per Query (the outbox's sweep index). A Query here takes the items unsorted;
    Scan, whose paging depends on a stable order, keeps moto's sorted walk."""
    from moto.dynamodb.models.table import Table

    sorted_items = Table.all_items
    query = Table.query

    def all_items(self):
        if not getattr(self, "_querying", False):
            return sorted_items(self)
        if self.range_key_attr:
            return [item for by_range in self.items.values() for item in by_range.values()]
        return list(self.items.values())

    def unsorted_query(self, *args, **kwargs):
        self._querying = True
        try:
            return query(self, *args, **kwargs)
        finally:
            self._querying = False

    Table.all_items = all_items
    Table.query = unsorted_query


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    cheap_transaction_backups()
    unsorted_query_candidates()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialised(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
