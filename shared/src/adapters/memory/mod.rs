//! In-process adapters with the same semantics as the AWS ones (the same guards, the same
//! all-or-nothing writes, messages written with the change), for the CLI, the demo and
//! the tests.

pub mod cases;
pub mod in_process;
pub mod ledger;
pub mod outbox;
pub mod reports;
pub mod screening;

pub use cases::MemoryCaseStore;
pub use in_process::InProcessPublisher;
pub use ledger::MemoryLedgerStore;
pub use outbox::{MemoryOutbox, MemoryPublisher};
pub use reports::MemoryReportStore;
pub use screening::MemoryScreeningRecorder;
