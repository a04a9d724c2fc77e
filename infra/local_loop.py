"""The local loop: the real function binaries, run by `cargo lambda watch`, against moto.

    infra/local-loop.sh            every file in events/ through its function, results
                                   and the alerts SNS received printed
    infra/local-loop.sh --e2e      the end-to-end scenario, each step asserted
                                   (tests/run.sh runs this after `cargo test`)
    infra/local-loop.sh --console  the same, then support's console on
                                   http://127.0.0.1:<port> with a queue filled by the demo
                                   submissions, until Ctrl-C
    infra/local-loop.sh --browser  the console in headless Chromium, asserted
                                   (tests/browser/console_test.py; tests/run.sh runs it)

What it does: starts moto (tests/moto_server.py) on a free loopback port, creates the table
(with its sweep index and stream) and the alert, escalation and resolution topics there,
builds each function exactly as `cargo lambda watch` will run it
(`cargo run --manifest-path functions/<name>/Cargo.toml --bin <name>`, dev profile, that
package's own features) so that the watcher's build is a no-op, starts one watcher per
function on free ports with the functions' environment pointing at moto, invokes them
through `cargo lambda invoke`, records what SNS accepted through an SQS queue subscribed
to each topic, and stops every process it started, however it ends.

Two event sources are emulated here, as AWS would run them:
- the table's stream → outbox-publisher: after each invocation the loop reads the new
  stream records from moto (which keeps a real DynamoDB stream), keeps those the
  template's filter keeps (INSERT / MODIFY of `OUTBOX#` items), and invokes
  outbox-publisher with them as one stream batch;
- SNS → a subscribed function: moto does not deliver SNS messages to a local function, so
  the end-to-end scenario takes the `violation_confirmed` that outbox-publisher published
  to the escalation topic from moto, wraps it as an SNS event the way Lambda does, and
  invokes user-escalation with it. With the console up, a thread does both all the time:
  the stream through outbox-publisher, then every new command and resolution to
  user-escalation and report-intake.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
FUNCTIONS = ("screen-submission", "report-intake", "user-escalation", "outbox-publisher")
# --- support console ---
CONSOLE = "support-console"
# The test members the console's local issuer signs tokens for: two support members, two
# leads (the two-person rule), and one in no group (403).
CONSOLE_MEMBERS = "member-a:support,member-b:support,lead-b:support+lead,lead-c:support+lead,visitor-d:"
REGION = "us-east-1"
# Fixtures whose order matters (a revocation needs its violation, a resolution its
# report); the rest of each folder follows in name order, malformed ones last.
ORDER = {
    "user-escalation": [
        "violation-confirmed.json",
        "standing-query.json",
        "sns-violation-revoked.json",
        "sns-violation-confirmed.json",
        "sns-withdrawal-confirmed.json",
        "sns-reinstated.json",
    ],
    "report-intake": [
        "report-user.json",
        "report-with-submission.json",
        "sns-resolution-confirmed.json",
        "sns-resolution-rejected.json",
    ],
}
INVOKE_TIMEOUT_S = 120
START_TIMEOUT_S = 60


def log(message):
    print(f"local-loop: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, what, timeout_s, proc=None, log_file=None):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log_file.read_text(errors="replace")[-3000:] if log_file and log_file.exists() else ""
    raise SystemExit(f"local-loop: {what} did not come up\n{tail}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class Processes:
    """Everything this run started, each in its own process group, stopped on exit."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.started = []

    def start(self, name, argv, env=None):
        log_file = self.log_dir / f"{name}.log"
        out = open(log_file, "wb")
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append((name, proc, out))
        return proc, log_file

    def stop_all(self):
        for _, proc, _ in reversed(self.started):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for _, proc, out in reversed(self.started):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
            out.close()
        self.started.clear()


class Emulator:
    """moto, and the AWS resources the functions need in it."""

    def __init__(self, endpoint, suffix):
        self.endpoint = endpoint
        kw = dict(
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        self.sns = boto3.client("sns", **kw)
        self.dynamodb = boto3.client("dynamodb", **kw)
        self.streams = boto3.client("dynamodbstreams", **kw)
        self.table = f"anshin-local-table-{suffix}"
        self.alert_topic = self.sns.create_topic(Name=f"anshin-local-alerts-{suffix}")["TopicArn"]
        self.escalation_topic = self.sns.create_topic(Name=f"anshin-local-escalation-{suffix}")[
            "TopicArn"
        ]
        self.resolution_topic = self.sns.create_topic(
            Name=f"anshin-local-resolutions-{suffix}")["TopicArn"]
        # What SNS accepts is recorded through one SQS queue subscribed to each topic, as a
        # real subscriber would see it; moto's whole-state dump is never read back.
        self.sqs = boto3.client("sqs", **kw)
        self.recorders = {}
        for topic in (self.alert_topic, self.escalation_topic, self.resolution_topic):
            name = topic.rsplit(":", 1)[1] + "-recorder"
            queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
            queue_arn = self.sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
            self.recorders[topic] = (queue_url, [])
        # --- support console: the key that seals case text ---
        self.case_key = boto3.client("kms", **kw).create_key(Description="anshin local")[
            "KeyMetadata"]["KeyId"]
        # The same key schema, sweep index, stream and TTL attribute as infra/template.yaml.
        self.dynamodb.create_table(
            TableName=self.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "sweep_pk", "AttributeType": "S"},
                {"AttributeName": "sweep_at", "AttributeType": "N"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[{
                "IndexName": "sweep",
                "KeySchema": [{"AttributeName": "sweep_pk", "KeyType": "HASH"},
                              {"AttributeName": "sweep_at", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        self.dynamodb.update_time_to_live(
            TableName=self.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
        )
        self.stream_arn = self.dynamodb.describe_table(TableName=self.table)["Table"][
            "LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def stream_batch(self):
        """The stream records written since the last call that the template's filter lets
        through to outbox-publisher, as the Lambda event source mapping would batch them."""
        records = []
        while True:
            page = self.streams.get_records(ShardIterator=self.iterator)
            self.iterator = page["NextShardIterator"]
            if not page["Records"]:
                break
            for record in page["Records"]:
                change = record["dynamodb"]
                image = change.get("NewImage") or {}
                if record["eventName"] not in ("INSERT", "MODIFY"):
                    continue
                if not image.get("pk", {}).get("S", "").startswith("OUTBOX#"):
                    continue
                records.append({
                    "eventID": record["eventID"],
                    "eventName": record["eventName"],
                    "eventVersion": record.get("eventVersion", "1.1"),
                    "eventSource": "aws:dynamodb",
                    "awsRegion": REGION,
                    "eventSourceARN": self.stream_arn,
                    "dynamodb": {
                        "ApproximateCreationDateTime": time.time(),
                        "Keys": change.get("Keys", {}),
                        "NewImage": image,
                        "SequenceNumber": change["SequenceNumber"],
                        "SizeBytes": change.get("SizeBytes", 0),
                        "StreamViewType": "NEW_IMAGE",
                    },
                })
        return {"Records": records} if records else None

    def function_env(self):
        env = dict(os.environ)
        for leaked in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
            env.pop(leaked, None)
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_REGION=REGION,
            ANSHIN_ALERT_TOPIC_ARN=self.alert_topic,
            ANSHIN_ESCALATION_TOPIC_ARN=self.escalation_topic,
            ANSHIN_RESOLUTION_TOPIC_ARN=self.resolution_topic,
            ANSHIN_TABLE=self.table,
            # --- support console ---
            ANSHIN_CASE_KEY_ID=self.case_key,
            ANSHIN_CONSOLE_LOCAL_MEMBERS=CONSOLE_MEMBERS,
        )
        return env

    def sent(self, topic_arn):
        """Everything SNS accepted on a topic so far, in order: what arrived on its recorder
        queue since the last call, appended to what was recorded before."""
        queue_url, recorded = self.recorders[topic_arn]
        while True:
            page = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=0)
            messages = page.get("Messages", [])
            if not messages:
                return list(recorded)
            for m in messages:
                envelope = json.loads(m["Body"])
                recorded.append({
                    "message_id": envelope["MessageId"],
                    "message": envelope["Message"],
                    "subject": envelope.get("Subject"),
                    "attributes": envelope.get("MessageAttributes") or {},
                })
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    def item(self, pk, sk):
        return self.dynamodb.get_item(
            TableName=self.table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            ConsistentRead=True,
        ).get("Item")


class Functions:
    """One `cargo lambda watch` per function, and `cargo lambda invoke` against it."""

    def __init__(self, processes, env, names=FUNCTIONS):
        self.processes = processes
        self.env = env
        self.ports = {}
        self.names = names

    def build(self):
        # The watcher runs `cargo run --manifest-path functions/<name>/Cargo.toml --bin
        # <name>`: the dev profile with that package's features alone. Building the same
        # way first makes its build a no-op and keeps compile time out of invocations.
        for name in self.names:
            started = time.monotonic()
            subprocess.run(
                ["cargo", "build", "--quiet", "--manifest-path", f"functions/{name}/Cargo.toml",
                 "--bin", name],
                cwd=ROOT,
                check=True,
            )
            log(f"built {name} in {time.monotonic() - started:.1f}s")

    def start(self):
        for name in self.names:
            port = free_port()
            proc, log_file = self.processes.start(
                f"watch-{name}",
                ["cargo", "lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port",
                 str(port), "--ignore-changes", "--manifest-path", f"functions/{name}/Cargo.toml",
                 # The binary named makes it the watcher's default function, so that HTTP
                 # requests to / reach it (the console's pages link from the root).
                 "--bin", name],
                env=self.env,
            )
            wait_until(lambda: port_open(port), f"cargo lambda watch for {name}", START_TIMEOUT_S,
                       proc, log_file)
            self.ports[name] = port
            log(f"{name}: cargo lambda watch on 127.0.0.1:{port} (log {log_file})")

    def log_text(self, name):
        """What the function (and its watcher) printed so far."""
        return (self.processes.log_dir / f"watch-{name}.log").read_text(errors="replace")

    def invoke(self, name, payload=None, data_file=None):
        """(ok, parsed answer or error text) of one invocation through the runtime API."""
        argv = ["cargo", "lambda", "invoke", name, "--invoke-address", "127.0.0.1",
                "--invoke-port", str(self.ports[name])]
        if data_file is not None:
            argv += ["--data-file", str(data_file)]
        else:
            argv += ["--data-ascii", json.dumps(payload)]
        try:
            done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                                  timeout=INVOKE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return False, f"no answer within {INVOKE_TIMEOUT_S}s"
        if done.returncode != 0:
            # cargo lambda prints the function's error type and message, then a footer.
            text = (done.stderr or done.stdout).split("Was this behavior unexpected?")[0]
            return False, " ".join(text.replace("│", " ").replace("×", "").split())
        try:
            return True, json.loads(done.stdout)
        except json.JSONDecodeError:
            return True, done.stdout.strip()


def lambda_sns_event(topic_arn, notification):
    """An SNS notification as Lambda hands it to a subscribed function."""
    attributes = {
        name: {"Type": value.get("Type") or value.get("DataType"),
               "Value": value.get("Value") or value.get("StringValue")}
        for name, value in notification["attributes"].items()
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:4f1a2b3c-0000-4000-8000-00000000e2e0",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": notification["message_id"],
                    "TopicArn": topic_arn,
                    "Subject": notification["subject"],
                    "Message": notification["message"],
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:e2e",
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


def event_files(function):
    folder = EVENTS / function
    preferred = ORDER.get(function, [])
    valid = sorted(p.name for p in folder.glob("*.json"))
    ordered = [n for n in preferred if n in valid] + [n for n in valid if n not in preferred]
    return [folder / n for n in ordered] + sorted((folder / "invalid").glob("*.json"))


def short(value, limit=400):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


def print_alerts(emulator):
    for label, topic in (("alerts", emulator.alert_topic), ("escalation", emulator.escalation_topic)):
        sent = emulator.sent(topic)
        print(f"\n== SNS {label} topic: {len(sent)} message(s)")
        for n in sent:
            attributes = {k: v.get("Value") for k, v in n["attributes"].items()}
            print(f"-- {n['subject'] or '(no subject)'}")
            print(f"   attributes {json.dumps(attributes, ensure_ascii=False)}")
            print(f"   message    {short(n['message'])}")


def relay(emulator, functions):
    """The stream's new outbox items through outbox-publisher, as the event source mapping
    would deliver them; (ok, answer), or (True, None) when there was nothing to deliver."""
    batch = emulator.stream_batch()
    if batch is None:
        return True, None
    return functions.invoke("outbox-publisher", payload=batch)


def run_loop(emulator, functions):
    for name in FUNCTIONS:
        for path in event_files(name):
            ok, answer = functions.invoke(name, data_file=path)
            print(f"\n== {name} <- {path.relative_to(ROOT)}: {'ok' if ok else 'refused/failed'}")
            print(short(answer, 800))
            relayed_ok, relayed = relay(emulator, functions)
            if relayed is not None:
                print(f"   outbox-publisher <- stream batch: {short(relayed) if relayed_ok else relayed}")
    print_alerts(emulator)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, condition, what, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}\n     {short(detail, 1200)}")
        return condition


def attribute(notification, name):
    return notification["attributes"].get(name, {}).get("Value")


def run_e2e(emulator, functions):
    c = Checks()
    posting = json.loads((EVENTS / "screen-submission" / "crime-recruitment.json").read_text())
    started = time.monotonic()

    ok, verdict = functions.invoke("screen-submission",
                                   data_file=EVENTS / "screen-submission" / "crime-recruitment.json")
    c.check(ok and verdict.get("decision") == "hide"
            and any(f["category"] == "illegal_work" for f in verdict.get("categories", [])),
            "screen-submission hides the crime-recruitment posting as illegal_work", verdict)
    c.check(not emulator.sent(emulator.alert_topic),
            "nothing is on SNS yet: the alert waits in the table's outbox", None)
    ok, relayed = relay(emulator, functions)
    c.check(ok and relayed == {"batchItemFailures": []},
            "outbox-publisher, given the stream batch, publishes every message", relayed)

    alerts = emulator.sent(emulator.alert_topic)
    hidden = [n for n in alerts if attribute(n, "event_type") == "submission_hidden"]
    alert = json.loads(hidden[0]["message"]) if len(hidden) == 1 else {}
    c.check(len(hidden) == 1 and attribute(hidden[0], "decision") == "hide"
            and "illegal_work" in json.loads(attribute(hidden[0], "categories") or "[]")
            and alert.get("submission_id") == posting["submission_id"]
            and alert.get("author_id") == posting["author_id"],
            "support is alerted on SNS: one submission_hidden, filterable by decision and categories",
            alerts)
    c.check(bool(hidden) and posting["body"] not in hidden[0]["message"]
            and posting["title"] not in hidden[0]["message"],
            "the alert does not carry the posting's text", hidden)

    commands = emulator.sent(emulator.escalation_topic)
    command = json.loads(commands[0]["message"]) if len(commands) == 1 else {}
    c.check(len(commands) == 1 and attribute(commands[0], "event_type") == "violation_confirmed"
            and command.get("type") == "violation_confirmed"
            and command.get("user_id") == posting["author_id"]
            and command.get("category") == "illegal_work" and command.get("source") == "screening",
            "the automatic violation_confirmed reaches the escalation topic through the outbox",
            commands)
    if not commands:
        return c, time.monotonic() - started

    event = lambda_sns_event(emulator.escalation_topic, commands[0])
    ok, reply = functions.invoke("user-escalation", payload=event)
    outcome = reply[0] if ok and isinstance(reply, list) and len(reply) == 1 else {}
    c.check(outcome.get("applied") is True and outcome.get("level_before") == "good_standing"
            and outcome.get("level") == "withdrawal_pending"
            and outcome.get("violation_id") == command.get("violation_id"),
            "user-escalation, given the SNS-wrapped command, records the strike: withdrawal pending",
            reply)

    relay(emulator, functions)
    violation = emulator.item(f"VIOLATION#{command.get('violation_id')}", "VIOLATION")
    standing = emulator.item(f"USER#{posting['author_id']}", "STANDING")
    c.check(violation is not None and violation.get("category", {}).get("S") == "illegal_work"
            and standing is not None and standing.get("level", {}).get("S") == "withdrawal_pending",
            "the strike and the standing are in DynamoDB", {"violation": violation, "standing": standing})

    level_alerts = [n for n in emulator.sent(emulator.alert_topic)
                    if attribute(n, "event_type") == "account_level_changed"]
    c.check(len(level_alerts) == 1 and attribute(level_alerts[0], "level") == "withdrawal_pending"
            and attribute(level_alerts[0], "previous_level") == "good_standing"
            and attribute(level_alerts[0], "user_id") == posting["author_id"],
            "support and the platform get an account_level_changed alert on SNS", level_alerts)

    # SNS delivers at least once: the same event again must not count a second strike.
    ok, again = functions.invoke("user-escalation", payload=event)
    repeated = again[0] if ok and isinstance(again, list) and len(again) == 1 else {}
    relay(emulator, functions)
    ok_query, report = functions.invoke(
        "user-escalation", payload={"type": "standing_query", "user_id": posting["author_id"]})
    level_alerts = [n for n in emulator.sent(emulator.alert_topic)
                    if attribute(n, "event_type") == "account_level_changed"]
    c.check(repeated.get("applied") is False and ok_query
            and len(report.get("active_strikes", [])) == 1
            and report.get("level") == "withdrawal_pending" and len(level_alerts) == 1,
            "a redelivered command changes nothing: still one strike, one level change announced",
            {"again": again, "report": report, "level_alerts": level_alerts})

    # The scheduled sweep finds nothing left: the stream delivered everything.
    ok, swept = functions.invoke(
        "outbox-publisher",
        payload={"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
    c.check(ok and swept == {"delivered": 0}, "the scheduled sweep finds the outbox empty", swept)

    check_logs_carry_no_user_text(c, emulator, functions)
    return c, time.monotonic() - started


# The fields of an event that carry what a user wrote.
USER_TEXT_FIELDS = ("title", "body", "description")
# The shortest run of a user's text a log line may not repeat.
WINDOW_CHARS = 8


def user_texts(value):
    """Every user-written string inside an event (SNS messages included), recursively."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in USER_TEXT_FIELDS and isinstance(inner, str):
                yield inner
            elif key == "Message" and isinstance(inner, str):
                try:
                    yield from user_texts(json.loads(inner))
                except json.JSONDecodeError:
                    pass
            else:
                yield from user_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from user_texts(inner)


def check_logs_carry_no_user_text(c, emulator, functions):
    """Every event fixture with user text goes through its function (refusals included),
    then every line the four functions logged in this run is searched for any
    WINDOW_CHARS-character run of any of those texts."""
    texts = []
    for name in FUNCTIONS:
        for path in event_files(name):
            event = json.loads(path.read_text())
            found = [t for t in user_texts(event) if len(t) >= WINDOW_CHARS]
            if not found:
                continue
            texts += found
            functions.invoke(name, data_file=path)
            relay(emulator, functions)
    windows = {t[i:i + WINDOW_CHARS] for t in texts for i in range(len(t) - WINDOW_CHARS + 1)}
    # A run of spaces or of one repeated character says nothing about the text, and a run
    # that is also in the functions' own source ("duplicate delivery" against an English
    # posting's " deliver") is the program's words, not the user's.
    source = "".join(path.read_text() for folder in ("shared/src", "functions")
                     for path in sorted((ROOT / folder).rglob("*.rs")))
    windows = {w for w in windows if len(set(w)) > 2 and w not in source}
    logged = "".join(functions.log_text(name) for name in FUNCTIONS)
    leaks = sorted(w for w in windows if w in logged)
    c.check(len(texts) >= 5 and logged and not leaks,
            f"no {WINDOW_CHARS}-character run of the {len(texts)} user texts sent appears in "
            f"the {logged.count(chr(10))} lines the functions logged",
            # Name how many and where, never the runs themselves.
            f"{len(leaks)} run(s) of user text found in the functions' logs")


# --- support console ---------------------------------------------------------

class Delivery:
    """What AWS does on its own while the console is up, in a thread: the table's stream
    through outbox-publisher (a decision's messages wait in the outbox until then), and
    what SNS does and moto does not: each new message of the escalation and
    report-resolution topics given to the subscribed function, wrapped as Lambda wraps
    SNS. What those functions write to the outbox goes out on the next round."""

    def __init__(self, emulator, functions):
        self.emulator = emulator
        self.functions = functions
        self.done = {emulator.escalation_topic: 0, emulator.resolution_topic: 0}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def pump(self):
        ok, relayed = relay(self.emulator, self.functions)
        if relayed is not None:
            log(f"outbox-publisher <- stream batch: {short(relayed, 200) if ok else relayed}")
        targets = ((self.emulator.resolution_topic, "report-intake"),
                   (self.emulator.escalation_topic, "user-escalation"))
        for topic, function in targets:
            sent = self.emulator.sent(topic)
            for notification in sent[self.done[topic]:]:
                ok, answer = self.functions.invoke(function, payload=lambda_sns_event(topic, notification))
                log(f"delivered {json.loads(notification['message']).get('type')} to {function}: "
                    f"{'ok' if ok else short(answer, 200)}")
            self.done[topic] = len(sent)

    def run(self):
        while not self.stop.is_set():
            try:
                self.pump()
            except Exception as e:  # keep delivering; the log says what failed
                log(f"delivery failed: {e}")
            self.stop.wait(0.5)


def console_url(functions):
    return f"http://127.0.0.1:{functions.ports[CONSOLE]}"


def fill_queue(functions):
    """The demo submissions through screen-submission (review and hide open cases), and
    three users' reports that push one account over its threshold (a report case)."""
    for path in sorted((EVENTS / "screen-submission").glob("*.json")):
        ok, answer = functions.invoke("screen-submission", data_file=path)
        log(f"screened {path.name}: {answer.get('decision') if ok and isinstance(answer, dict) else short(answer, 200)}")
    for i, reporter in enumerate(["worker-7001", "worker-7002", "worker-7003"]):
        report = {"type": "report", "reporter_id": reporter, "reporter_account_created_at": 1600000000,
                  "target_user_id": "client-4410", "category": "harassment",
                  "description": "修正依頼のたびに暴言が続きます。", "report_id": f"rep-local-{i}"}
        functions.invoke("report-intake", payload=report)


def run_console(emulator, functions, browser):
    fill_queue(functions)
    delivery = Delivery(emulator, functions)
    delivery.thread.start()
    url = console_url(functions)
    try:
        if browser:
            # Screenshots go to target/screenshots unless told otherwise (README's are
            # refreshed with ANSHIN_SCREENSHOT_DIR=docs/screenshots).
            env = dict(os.environ, ANSHIN_CONSOLE_URL=url)
            env.setdefault("ANSHIN_SCREENSHOT_DIR", str(ROOT / "target" / "screenshots"))
            return subprocess.run([sys.executable, str(ROOT / "tests" / "browser" / "console_test.py")],
                                  cwd=ROOT, env=env).returncode
        print(f"\nsupport console: {url}  (sign in as one of: {CONSOLE_MEMBERS})", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        while True:
            time.sleep(3600)
    finally:
        delivery.stop.set()
        delivery.thread.join(timeout=5)



def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--e2e", action="store_true",
                        help="run the end-to-end scenario and assert each step")
    parser.add_argument("--console", action="store_true",
                        help="serve support's console on a queue filled by the demo submissions")
    parser.add_argument("--browser", action="store_true",
                        help="drive the console in headless Chromium (tests/browser/console_test.py)")
    args = parser.parse_args()

    log_dir = ROOT / "target" / "local-loop"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = Processes(log_dir)
    # SIGTERM / SIGHUP unwind like Ctrl-C, so that `finally` stops what we started.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    total = time.monotonic()
    try:
        # A moto of our own, so that nothing another run left behind is counted.
        port = free_port()
        proc, moto_log = processes.start(
            "moto", [sys.executable, str(ROOT / "tests" / "moto_server.py"), "-H", "127.0.0.1",
                     "-p", str(port)])
        endpoint = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_ok(f"{endpoint}/moto-api/"), "moto", START_TIMEOUT_S,
                   proc, moto_log)
        log(f"moto on {endpoint}")
        emulator = Emulator(endpoint, f"{os.getpid()}-{int(time.time())}")
        console = args.console or args.browser
        names = FUNCTIONS + ((CONSOLE,) if console else ())
        functions = Functions(processes, emulator.function_env(), names)
        functions.build()
        functions.start()
        if console:
            return run_console(emulator, functions, args.browser)
        if args.e2e:
            checks, elapsed = run_e2e(emulator, functions)
            print(f"e2e scenario took {elapsed:.1f}s ({time.monotonic() - total:.1f}s with start-up)")
            print(f"e2e: {checks.passed} passed, {checks.failed} failed")
            return 1 if checks.failed else 0
        run_loop(emulator, functions)
        return 0
    finally:
        processes.stop_all()


if __name__ == "__main__":
    sys.exit(main())
