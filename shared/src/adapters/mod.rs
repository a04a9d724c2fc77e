//! Adapters for the core's ports: embedded ones for the CLI and tests, AWS ones for Lambda.

#[cfg(feature = "aws")]
pub mod dynamodb;
#[cfg(feature = "aws")]
pub mod dynamodb_reports;
pub mod embedded;
pub mod embedded_ledger;
pub mod embedded_reports;
#[cfg(feature = "aws")]
pub mod sns;
