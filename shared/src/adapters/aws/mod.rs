//! The AWS adapters: SNS for alerts and violations, DynamoDB for the ledger and reports.

pub mod dynamodb;
pub mod sns;

pub use dynamodb::{create_table, DynamoLedgerStore, DynamoReportStore};
pub use sns::{SnsAlertSink, SnsViolationQueue};
