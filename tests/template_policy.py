"""Least privilege in infra/template.yaml, read the way CloudFormation reads it.

    .venv/bin/python tests/template_policy.py        (tests/run.sh runs it)

cfn-lint and checkov say the template is well formed and free of known misconfigurations;
neither knows which function may write which keys or who may publish a command. These
checks do, and each one is a line of THREATS.md:

- every DynamoDB write a role allows is bounded by `dynamodb:LeadingKeys` to the key
  prefixes that function owns, and no role gets `dynamodb:*` or a table-wide delete;
- only outbox-publisher may publish to the alert, escalation and resolution topics: the
  topic policy denies every other principal, and no other role allows `sns:Publish`;
- user-escalation hears commands only from the escalation topic, report-intake only
  resolutions from the resolution topic;
- the platform's account-level subscription lets `withdrawal_pending` through (an interim
  restriction, not a silent gap until a second member confirms).

Exits 1 naming every check that failed.
"""

import sys
from pathlib import Path

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parent.parent
WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
          "dynamodb:BatchWriteItem", "dynamodb:TransactWriteItems"}
MESSAGE_TOPICS = {"AlertTopic", "EscalationTopic", "ReportResolutionTopic"}
# What each function's adapters write (shared/src/adapters/aws/dynamodb/), by role.
# A case opens under CASE#, its queue entry (QUEUE), its day (CASEDAY#) and its author
# (AUTHOR#); only the console closes one (CLOSED#), and the console writes no ledger or
# report item — its decisions reach them as commands, through the outbox.
CASE_OPENING = {"CASE#*", "QUEUE", "CASEDAY#*", "AUTHOR#*"}
OWNED_PREFIXES = {
    "ScreenSubmissionRole": {"OUTBOX#*"} | CASE_OPENING,
    "UserEscalationRole": {"USER#*", "VIOLATION#*", "OUTBOX#*"},
    "ReportIntakeRole": {"REPORTKEY#*", "RATE#*", "REPORT#*", "TARGET#*", "REPORTER#*",
                         "OUTBOX#*"} | CASE_OPENING,
    "OutboxPublisherRole": {"OUTBOX#*"},
    "ConsoleRole": {"OUTBOX#*", "CLOSED#*"} | CASE_OPENING,
}


def listed(value):
    return value if isinstance(value, list) else [value]


def statements(role):
    for policy in role["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def refs(value):
    """The logical ids a Ref / GetAtt (or a list of them) points at."""
    found = set()
    for item in listed(value):
        if isinstance(item, dict):
            if "Ref" in item:
                found.add(item["Ref"])
            elif "Fn::GetAtt" in item:
                found.add(item["Fn::GetAtt"][0])
    return found


def main():
    template = cfn_yaml.load(str(ROOT / "infra" / "template.yaml"))
    resources = template["Resources"]
    failures = []

    def check(condition, what):
        print(f"{'ok  ' if condition else 'FAIL'} {what}")
        if not condition:
            failures.append(what)

    roles = {name: r for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    check(set(OWNED_PREFIXES) <= set(roles), "every function has a role of its own")
    for name, role in roles.items():
        for statement in statements(role):
            if statement["Effect"] != "Allow":
                continue
            actions = set(listed(statement["Action"]))
            check(not any(a in ("dynamodb:*", "*") for a in actions),
                  f"{name}/{statement.get('Sid')}: no wildcard DynamoDB action")
            written = actions & WRITES
            if written:
                leading = (statement.get("Condition", {})
                           .get("ForAllValues:StringLike", {})
                           .get("dynamodb:LeadingKeys"))
                check(leading is not None and set(leading) <= OWNED_PREFIXES.get(name, set()),
                      f"{name}/{statement.get('Sid')}: writes only its own key prefixes")
            if "sns:Publish" in actions:
                check(name == "OutboxPublisherRole" or not (refs(statement["Resource"])
                                                            & MESSAGE_TOPICS),
                      f"{name}/{statement.get('Sid')}: only outbox-publisher publishes to a message topic")

    policies = [r for r in resources.values() if r["Type"] == "AWS::SNS::TopicPolicy"
                and refs(r["Properties"]["Topics"]) == MESSAGE_TOPICS]
    denies = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]
              if s["Effect"] == "Deny" and "sns:Publish" in listed(s["Action"])
              and s.get("Principal") == "*"
              and refs(s["Resource"]) == MESSAGE_TOPICS
              and refs(s.get("Condition", {}).get("ArnNotEquals", {})
                       .get("aws:PrincipalArn")) == {"OutboxPublisherRole"}]
    check(len(denies) == 1,
          "the message topics deny sns:Publish to every principal but outbox-publisher")

    def sns_sources(function):
        events = resources[function]["Properties"].get("Events", {})
        return {name: e["Properties"] for name, e in events.items() if e["Type"] == "SNS"}

    escalation = sns_sources("UserEscalationFunction")
    check([refs(e["Topic"]) for e in escalation.values()] == [{"EscalationTopic"}],
          "user-escalation hears SNS commands from the escalation topic alone")
    resolutions = sns_sources("ReportIntakeFunction")
    check([refs(e["Topic"]) for e in resolutions.values()] == [{"ReportResolutionTopic"}]
          and all(e.get("FilterPolicy") == {"type": ["resolution"]}
                  for e in resolutions.values()),
          "report-intake hears only resolutions, from the resolution topic")

    platform = resources["PlatformAccountLevelSubscription"]["Properties"]["FilterPolicy"]
    check("withdrawal_pending" in platform.get("level", []),
          "the platform hears withdrawal_pending as an interim restriction")

    print(f"template_policy: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
