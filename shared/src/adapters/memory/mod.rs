//! In-process adapters with the same semantics as the AWS ones (the same guards, the same
//! all-or-nothing writes), for the CLI, the demo and the tests.

pub mod alerts;
pub mod cases;
pub mod ledger;
pub mod reports;
pub mod violations;

pub use alerts::MemoryAlertSink;
pub use cases::{MemoryCaseStore, MemorySupportOutbox};
pub use ledger::MemoryLedgerStore;
pub use reports::MemoryReportStore;
pub use violations::{DirectViolationQueue, MemoryViolationQueue};
