//! The AWS SDK configuration every function loads once at cold start: the environment's
//! credentials, region and endpoint, plus bounds the defaults lack.
//!
//! The SDK's defaults set no operation timeout, so a call to a hung endpoint would hold an
//! invocation until Lambda kills it, and the caller would see a timeout rather than our
//! typed error. Here every attempt and every operation has a ceiling well inside the
//! functions' timeout (10 s in the template), and throttled or transient failures are
//! retried by the SDK's standard policy (exponential backoff with jitter) a bounded number
//! of times before they reach us as [`crate::store::StoreError::Throttled`] or
//! `Unavailable`.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// How long to wait for a TCP / TLS connection to the service.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// One HTTP attempt of an operation, retries not included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// An operation with all its retries: under the shortest function timeout (10 s), with
/// room to answer.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(7);
/// Attempts per operation, the first included.
pub const MAX_ATTEMPTS: u32 = 3;

/// The bounds above, as the SDK takes them.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The retry policy: standard mode (backoff with jitter on throttling and transient
/// errors), [`MAX_ATTEMPTS`] attempts.
pub fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(50))
}

/// The configuration every function builds its clients from, once per cold start.
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_ends_inside_the_shortest_function_timeout() {
        let timeouts = timeouts();
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        // The shortest function timeout in infra/template.yaml is 10 s.
        assert!(OPERATION_TIMEOUT + crate::deadline::ANSWER_RESERVE < Duration::from_secs(10));
        assert_eq!(retries().max_attempts(), MAX_ATTEMPTS);
    }
}
