//! The AWS adapters: SNS for alerts and violations, DynamoDB for the ledger and reports.

pub mod dynamodb;
pub mod kms;
pub mod sns;
pub mod support;

pub use dynamodb::{create_table, DynamoCaseStore, DynamoLedgerStore, DynamoReportStore};
pub use kms::KmsSealer;
pub use sns::{SnsAlertSink, SnsViolationQueue};
pub use support::SnsSupportOutbox;
