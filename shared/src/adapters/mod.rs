//! Adapters for the core's ports: embedded ones for the CLI and tests, AWS ones for Lambda.

#[cfg(feature = "aws")]
pub mod dynamodb;
pub mod embedded;
pub mod embedded_ledger;
#[cfg(feature = "aws")]
pub mod sns;
