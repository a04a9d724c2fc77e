//! The AWS adapters: SNS for published messages, DynamoDB for the ledger, the reports, the
//! screening records and the outbox.

pub mod dynamodb;
pub mod kms;
pub mod sdk;
pub mod sns;

pub use dynamodb::{
    create_table, DynamoCaseStore, DynamoLedgerStore, DynamoOutboxStore, DynamoReportStore,
    DynamoScreeningRecorder,
};
pub use kms::KmsSealer;
pub use sns::{SnsPublisher, TopicArns};
