//! Adapters for the core's ports: [`memory`] ones for the CLI, the demo and tests, and, with
//! the `aws` feature, [`aws`] ones (SNS, DynamoDB) for the Lambda functions.

#[cfg(feature = "aws")]
pub mod aws;
pub mod memory;
