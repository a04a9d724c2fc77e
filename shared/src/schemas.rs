//! JSON Schemas of every payload the functions take or send, for the platform's engineers:
//! `schemas/*.json` at the repository root, written by `anshin schemas --write schemas`.
//! `tests/integration/schemas.rs` fails when a committed file differs from what this build
//! generates, and `tests/check_schemas.py` validates every fixture in `events/` (and the
//! verdicts `anshin screen` prints for them) against its schema.
//!
//! What the functions send — the verdict, the alerts, `case_resolved` — is described by the
//! very types they serialise. What they take is read by hand-written parsers (every field
//! optional, so that a refusal can name the one missing, [`crate::input`]); the submission's
//! schema comes from its validated type, and the commands' wire forms are written here as
//! schema-only types that mirror those parsers: each is what the parser accepts, with the
//! same bounds, and no more.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde_json::Value;

use crate::alert::Alert;
use crate::escalation::command::{MAX_EVIDENCE_REFS, MAX_EVIDENCE_REF_CHARS, MAX_REASON_CHARS};
use crate::input::Id;
use crate::reports::command::MAX_DESCRIPTION_CHARS;
use crate::reports::ResolutionDecision;
use crate::screening::Submission;
use crate::support::CaseResolved;
use crate::taxonomy::{Category, ReportCategory, Severity};
use crate::verdict::Verdict;
use crate::violation::ViolationSource;

/// Which side of a function a payload is on: what it takes is described as it may be
/// written (`default`ed fields optional), what it sends as it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Taken,
    Sent,
}

/// One published schema: its file name under `schemas/`, who reads or writes it, and the
/// schema itself.
pub struct Document {
    pub file: &'static str,
    pub direction: Direction,
    pub schema: Schema,
}

impl Document {
    /// The file's bytes: pretty JSON with a final newline, so that diffs read well.
    pub fn to_file_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema).expect("a schema is JSON");
        text.push('\n');
        text
    }
}

fn document<T: JsonSchema>(file: &'static str, direction: Direction) -> Document {
    let settings = SchemaSettings::draft2020_12();
    let settings = match direction {
        Direction::Taken => settings.for_deserialize(),
        Direction::Sent => settings.for_serialize(),
    };
    let mut schema = settings.into_generator().into_root_schema_for::<T>();
    schema.insert(
        "$id".to_owned(),
        Value::String(format!("https://anshin.example/schemas/{file}")),
    );
    Document {
        file,
        direction,
        schema,
    }
}

/// Every published schema, in a fixed order.
pub fn documents() -> Vec<Document> {
    vec![
        document::<Submission>("submission.json", Direction::Taken),
        document::<Verdict>("verdict.json", Direction::Sent),
        document::<ReportWire>("report.json", Direction::Taken),
        document::<ResolutionWire>("resolution.json", Direction::Taken),
        document::<EscalationCommandWire>("escalation-command.json", Direction::Taken),
        document::<Alert>("alert.json", Direction::Sent),
        document::<CaseResolved>("case-resolved.json", Direction::Sent),
    ]
}

// ---- the commands' wire forms --------------------------------------------------------------
//
// Never built: they exist for their schemas. Field order follows the parsers.

/// Free text, bounded in characters and not blank (`Blank::Refused`).
#[derive(Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(inline)]
struct Reason(#[schemars(length(min = 1, max = MAX_REASON_CHARS), regex(pattern = r"\S"))] String);

/// A reference such as `submission:job-123` or `report:r-9`; never the text itself.
#[derive(Serialize, JsonSchema)]
#[serde(transparent)]
#[schemars(inline)]
struct EvidenceRef(
    #[schemars(length(min = 1, max = MAX_EVIDENCE_REF_CHARS), regex(pattern = r"\S"))] String,
);

/// A user's report, invoked directly by the platform with the reporter taken from its
/// authenticated session (report-intake refuses a report that arrives through SNS).
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(title = "Report")]
#[allow(dead_code)]
enum ReportWire {
    Report {
        /// The platform's id for the report; without one, anshin derives it from reporter,
        /// target and submission, so a repeat is the same report.
        #[serde(skip_serializing_if = "Option::is_none")]
        report_id: Option<Id>,
        reporter_id: Id,
        /// When the reporter's account was created, seconds since the Unix epoch.
        reporter_account_created_at: u64,
        /// The reported user; not the reporter.
        target_user_id: Id,
        #[serde(skip_serializing_if = "Option::is_none")]
        target_submission_id: Option<Id>,
        /// The reported submission as it stands, when the report is about one: screened
        /// again, and its author must be `target_user_id`.
        #[serde(skip_serializing_if = "Option::is_none")]
        submission: Option<Submission>,
        category: ReportCategory,
        /// What the reporter wrote; up to 2,000 characters, may be empty.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = MAX_DESCRIPTION_CHARS))]
        description: Option<String>,
    },
}

/// Support's decision on a report, published to the report-resolution topic by the support
/// console (through the outbox); report-intake refuses it on a direct invocation.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(title = "Resolution")]
#[allow(dead_code)]
enum ResolutionWire {
    Resolution {
        report_id: Id,
        decision: ResolutionDecision,
        /// The signed-in support member who decided.
        decided_by: Id,
        /// The category of the strike a confirmation gives, when it differs from the
        /// report's.
        #[serde(skip_serializing_if = "Option::is_none")]
        category: Option<Category>,
        #[serde(skip_serializing_if = "Option::is_none")]
        severity: Option<Severity>,
    },
}

/// A command to user-escalation. The platform may invoke it directly with
/// `violation_confirmed` and `standing_query`; the others act in a support member's name and
/// arrive only through the escalation topic, from the support console.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(title = "EscalationCommand")]
#[allow(dead_code)]
enum EscalationCommandWire {
    /// A violation someone confirmed: one strike, counted once per `violation_id`.
    ViolationConfirmed {
        violation_id: Id,
        user_id: Id,
        category: Category,
        severity: Severity,
        source: ViolationSource,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schemars(length(max = MAX_EVIDENCE_REFS))]
        evidence: Option<Vec<EvidenceRef>>,
        decided_by: Id,
    },
    /// An appeal upheld: the violation stops counting.
    ViolationRevoked {
        violation_id: Id,
        decided_by: Id,
        reason: Reason,
    },
    /// The second support member's confirmation of a forced withdrawal.
    WithdrawalConfirmed { user_id: Id, decided_by: Id },
    /// Bringing a withdrawn account back, with a clean slate.
    Reinstated {
        user_id: Id,
        decided_by: Id,
        reason: Reason,
    },
    /// Where a user stands, with the history.
    StandingQuery { user_id: Id },
}
