//! Reports from users: intake, de-duplication, rate limits, reporter weight, brigading,
//! the road to support, and resolution into strikes.
//!
//! Read in this order: [`command`] (a report, a resolution) → [`desk`] (one guarded write
//! per intake, retried on conflict; alerts; resolutions handed to user-escalation) with
//! [`tally`] (what counts against a target) → [`store`] (the storage port: memory and
//! DynamoDB adapters). The weighing rules themselves are policy (`policy::reports`).

pub mod command;
pub mod desk;
pub mod store;
pub mod tally;

pub use command::{Report, ReportCommand, Resolution, ResolutionDecision};
pub use desk::{ReportAccepted, ReportDesk, ReportError, ReportResponse, ResolutionOutcome};
pub use store::{CountedReport, Crossing, ReportRecord, ReportStatus, ReportStore};
pub use tally::{ReporterMark, TargetTally};
