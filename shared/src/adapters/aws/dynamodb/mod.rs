//! The ledger, the reports and the outbox on DynamoDB, in one table ([`table`]).

pub mod cases;
pub mod ledger;
pub mod outbox;
pub mod reports;
pub mod screening;
pub mod table;

pub use cases::DynamoCaseStore;
pub use ledger::DynamoLedgerStore;
pub use outbox::DynamoOutboxStore;
pub use reports::DynamoReportStore;
pub use screening::DynamoScreeningRecorder;
pub use table::create_table;
