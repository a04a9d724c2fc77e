//! anshin core: everything the Lambda functions and the CLI share.
//!
//! Follow a submission through the modules in this order:
//!
//! - [`taxonomy`]: the 13 violation categories (stable ids) and severities.
//! - [`submission`]: the parsed, bounded [`submission::Submission`]; bad payloads become
//!   [`error::InvalidInput`] naming the field.
//! - [`normalize`]: undoes the evasions posters use (full width, spaced letters, kana
//!   digits, `(at)`, homoglyphs…) and keeps a map back to the original text.
//! - [`policy`]: the versioned guideline policy file (embedded, or `ANSHIN_POLICY_PATH`).
//! - [`rules`]: runs the policy's patterns over normalised text.
//! - [`featurize`]: the classifier's features (hashed character n-grams), one definition
//!   for training and serving.
//! - [`model`]: the ONNX classifier (tract), loaded once; its scores join the rules'.
//! - [`screen`]: `Submission → Verdict`; the [`screen::Classifier`] port is where the
//!   model plugs in.
//! - [`verdict`]: the decision, categories, evidence and fix-it messages.
//! - [`ladder`]: the account ladder (warning → suspension → forced withdrawal), derived
//!   from unexpired strikes.
//! - [`escalation`]: confirmed violations → strikes → level changes → alerts, exactly once.
//! - [`ledger`]: the storage port for strikes, standings and the audit trail.
//! - [`clock`]: the time port, so that expiry is testable.
//! - [`reports`]: user reports — intake, de-duplication, rate limit, reporter weight,
//!   brigading, threshold alerts, resolution into strikes.
//! - [`alert`]: the port that tells support at once, and what an alert may carry.
//! - [`adapters`]: embedded adapters (CLI, tests) and, with the `aws` feature, SNS.
//! - [`config`]: environment read once at cold start.
//! - [`delivery`]: one command invoked directly, or one per record of an SNS event.
//! - [`metrics`]: CloudWatch Embedded Metric Format lines (decisions, reports, level changes,
//!   latency).
//! - [`eval`]: precision / recall on labelled data, per source (rules, model, combined).
//! - [`feedback`]: support's decisions turned into training rows.

pub mod adapters;
pub mod alert;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod escalation;
pub mod eval;
pub mod featurize;
pub mod feedback;
pub mod ladder;
pub mod ledger;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod policy;
pub mod reports;
pub mod rules;
pub mod screen;
pub mod submission;
pub mod taxonomy;
pub mod verdict;

pub use error::InvalidInput;
