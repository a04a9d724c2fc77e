#!/usr/bin/env python3
"""The published JSON Schemas (schemas/) hold for what the functions really take and send.

    .venv/bin/python tests/check_schemas.py [--anshin PATH]

Every well-formed fixture in events/ is validated against the schema of what it carries —
a submission, a report, each SNS record's resolution or command, the alert inside the
outbox stream record — and every verdict `anshin screen` prints for the screen-submission
fixtures against verdict.json. And the other way: each refused fixture in events/*/invalid/
that is refused for its shape (a missing field, a wrong type, an unknown value) must fail
its schema too, so the schemas do not accept what the functions refuse.

The Rust side (shared/tests/schemas.rs) makes sure the files are what the types generate;
this script makes sure the types describe the parsers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
SCHEMAS = ROOT / "schemas"

# Refused fixtures whose refusal is about shape, which a schema can express — including a
# command through the wrong door of report-intake, whose direct and SNS payloads have
# schemas of their own. The others (a report against oneself, a message that is not JSON,
# a revocation invoked directly: user-escalation's one schema covers both its doors) are
# refused by rules no schema states.
SHAPE_REFUSALS = {
    "screen-submission": None,  # every refused submission is refused for its shape
    "report-intake": {"description-too-long.json", "missing-reporter.json", "unknown-category.json",
                      "sns-unknown-decision.json", "sns-report.json",
                      "resolution-by-direct-invocation.json"},
    "user-escalation": {"empty-revocation-reason.json", "missing-user-id.json", "unknown-category.json",
                        "unknown-type.json", "sns-unknown-severity.json"},
}


def validator(file: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / file).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def where(error) -> str:
    """Where a payload fails and which keyword it breaks — never the value, which may be a
    posting's text."""
    path = "/".join(str(p) for p in error.absolute_path) or "$"
    return f"{path} breaks `{error.validator}`"


def sns_messages(event: dict) -> list[dict] | None:
    records = event.get("Records")
    if not isinstance(records, list) or not records or "Sns" not in records[0]:
        return None
    return [json.loads(r["Sns"]["Message"]) for r in records]


def payloads(function: str, event: dict) -> list[tuple[str, dict]]:
    """(schema file, payload) for what one fixture carries."""
    if function == "screen-submission":
        return [("submission.json", event)]
    if function == "report-intake":
        messages = sns_messages(event)
        if messages is None:
            return [("report.json", event)]
        return [("resolution.json", m) for m in messages]
    if function == "user-escalation":
        if event.get("source") == "aws.events":
            return []  # the schedule's tick carries no command
        messages = sns_messages(event)
        return [("escalation-command.json", m) for m in (messages if messages is not None else [event])]
    if function == "outbox-publisher":
        out = []
        for record in event.get("Records", []):
            image = record.get("dynamodb", {}).get("NewImage", {})
            if image.get("destination", {}).get("S") == "alerts":
                out.append(("alert.json", json.loads(image["body"]["S"])))
        return out
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--anshin", default=None, help="the anshin binary (default: cargo run --bin anshin)")
    args = parser.parse_args()

    validators = {p.name: validator(p.name) for p in sorted(SCHEMAS.glob("*.json"))}
    failures: list[str] = []
    checked = 0
    refused_checked = 0

    for function_dir in sorted(p for p in EVENTS.iterdir() if p.is_dir()):
        function = function_dir.name
        for path in sorted(function_dir.glob("*.json")):
            for schema, payload in payloads(function, json.loads(path.read_text(encoding="utf-8"))):
                errors = sorted(validators[schema].iter_errors(payload), key=str)
                checked += 1
                if errors:
                    failures.append(f"{path.relative_to(ROOT)} against {schema}: {where(errors[0])}")
        shape = SHAPE_REFUSALS.get(function, set())
        for path in sorted((function_dir / "invalid").glob("*.json")):
            if shape is not None and path.name not in shape:
                continue
            try:
                event = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                continue  # not JSON at all: nothing for a schema to say
            if not isinstance(event, dict):
                continue
            for schema, payload in payloads(function, event):
                refused_checked += 1
                if validators[schema].is_valid(payload):
                    failures.append(f"{path.relative_to(ROOT)} is refused by {function} but valid against {schema}")

    command = [args.anshin] if args.anshin else ["cargo", "run", "--quiet", "--bin", "anshin", "--"]
    fixtures = sorted(str(p) for p in (EVENTS / "screen-submission").glob("*.json"))
    out = subprocess.run(command + ["screen", *fixtures], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    verdicts = [json.loads(line) for line in out.splitlines() if line.strip()]
    if len(verdicts) != len(fixtures):
        failures.append(f"anshin screen printed {len(verdicts)} verdicts for {len(fixtures)} fixtures")
    for verdict in verdicts:
        checked += 1
        for error in validators["verdict.json"].iter_errors(verdict):
            failures.append(f"verdict of {verdict.get('submission_id')} against verdict.json: {where(error)}")
            break

    for failure in failures:
        print(f"check_schemas: {failure}", file=sys.stderr)
    print(f"check_schemas: {checked} payloads valid against their schemas, "
          f"{refused_checked} refused ones invalid, {len(failures)} failures", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
