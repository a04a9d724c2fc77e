//! The ledger and the reports on DynamoDB, in one table ([`table`]).

pub mod cases;
pub mod ledger;
pub mod reports;
pub mod table;

pub use cases::DynamoCaseStore;
pub use ledger::DynamoLedgerStore;
pub use reports::DynamoReportStore;
pub use table::create_table;
