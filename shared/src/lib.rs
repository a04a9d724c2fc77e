//! anshin core: everything the Lambda functions and the CLI share.
//!
//! The modules form layers, and a module imports only from its own layer or the ones
//! below it — never upward, and never in a circle.
//!
//! **Kernel** — words and tools every other layer uses:
//! - [`taxonomy`]: the 13 violation categories, severities, submission kinds, what a user
//!   may report.
//! - [`input`]: [`InvalidInput`] (a refusal naming the field, never echoing it), [`input::Id`],
//!   bounded text, one parser for closed vocabularies.
//! - [`clock`] (the time port), [`deadline`] (the invocation's remaining time),
//!   [`digest`] (stable keys, content hashes), [`store`] (the store error and the one
//!   optimistic-retry loop), [`delivery`] (direct or SNS-wrapped commands), [`metrics`]
//!   (CloudWatch EMF lines).
//! - [`text`]: the normaliser that undoes evasions, with a map back to the original.
//!
//! **Policy** — [`policy`]: the versioned guideline file: categories, the rules engine,
//! the report rules, the account ladder.
//!
//! **Messages between functions** — [`verdict`] (what screening answers),
//! [`violation`] (a confirmed violation, as a command for user-escalation), [`alert`]
//! (what support and the platform hear), [`outbox`] (how every such message leaves: written
//! with the change that caused it, published at least once by a relay).
//!
//! **Bounded contexts** — follow a submission through them in this order:
//! - [`screening`]: submission → rules + classifier → verdict; the screening desk alerts
//!   support and confirms automatic strikes.
//! - [`escalation`]: confirmed violations → strikes → the account ladder, exactly once.
//! - [`reports`]: users' reports — intake, weighing, brigading, thresholds, resolution.
//! - [`support`]: support's desk — cases from verdicts and report crossings, decisions
//!   under the signed-in member's name, outcomes back to the platform.
//!
//! **Edges** — [`adapters`] (memory and AWS implementations of the ports), [`config`]
//! (the environment, read once at cold start), [`offline`] (evaluation and training
//! feedback, for the CLI only), [`schemas`] (the JSON Schemas of every payload taken or
//! sent, for the platform's engineers), and `fuzz_checks` (hidden: what the fuzz targets in
//! `fuzz/` check, shared with the test that replays their corpus).

// Kernel
pub mod clock;
pub mod deadline;
pub mod delivery;
pub mod digest;
pub mod input;
pub mod metrics;
pub mod store;
pub mod taxonomy;
pub mod text;

// Policy
pub mod policy;

// Messages between functions
pub mod alert;
pub mod outbox;
pub mod verdict;
pub mod violation;

// Bounded contexts
pub mod escalation;
pub mod reports;
pub mod screening;
pub mod support;

// Edges
pub mod adapters;
pub mod config;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod offline;
pub mod schemas;

pub use input::InvalidInput;
