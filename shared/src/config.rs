//! Configuration, read once at cold start from the environment into a typed struct.

use std::path::PathBuf;
use std::sync::Arc;

use crate::policy::{Policy, PolicyError};

/// Environment variable naming a policy file that replaces the embedded one.
pub const POLICY_PATH_VAR: &str = "ANSHIN_POLICY_PATH";
/// Environment variable with the ARN of the SNS topic support listens on.
pub const ALERT_TOPIC_ARN_VAR: &str = "ANSHIN_ALERT_TOPIC_ARN";
/// Environment variable with the ARN of the SNS topic user-escalation takes commands from.
pub const ESCALATION_TOPIC_ARN_VAR: &str = "ANSHIN_ESCALATION_TOPIC_ARN";
/// Environment variable naming the DynamoDB table of the strike ledger.
pub const LEDGER_TABLE_VAR: &str = "ANSHIN_LEDGER_TABLE";

fn required_var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    Embedded,
    File(PathBuf),
}

impl PolicySource {
    pub fn from_env() -> Self {
        match std::env::var_os(POLICY_PATH_VAR) {
            Some(path) if !path.is_empty() => PolicySource::File(path.into()),
            _ => PolicySource::Embedded,
        }
    }

    pub fn load(&self) -> Result<Arc<Policy>, PolicyError> {
        let policy = match self {
            PolicySource::Embedded => Policy::embedded()?,
            PolicySource::File(path) => Policy::from_path(path)?,
        };
        Ok(Arc::new(policy))
    }
}

/// Settings of the screen-submission function.
#[derive(Debug, Clone)]
pub struct ScreenConfig {
    pub policy: PolicySource,
    pub alert_topic_arn: String,
    pub escalation_topic_arn: String,
}

impl ScreenConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(ScreenConfig {
            policy: PolicySource::from_env(),
            alert_topic_arn: required_var(ALERT_TOPIC_ARN_VAR)?,
            escalation_topic_arn: required_var(ESCALATION_TOPIC_ARN_VAR)?,
        })
    }
}

/// Settings of the user-escalation function.
#[derive(Debug, Clone)]
pub struct EscalationConfig {
    pub policy: PolicySource,
    pub ledger_table: String,
    pub alert_topic_arn: String,
}

impl EscalationConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(EscalationConfig {
            policy: PolicySource::from_env(),
            ledger_table: required_var(LEDGER_TABLE_VAR)?,
            alert_topic_arn: required_var(ALERT_TOPIC_ARN_VAR)?,
        })
    }
}

/// Settings of the report-intake function.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub policy: PolicySource,
    pub table: String,
    pub alert_topic_arn: String,
    pub escalation_topic_arn: String,
}

impl ReportConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(ReportConfig {
            policy: PolicySource::from_env(),
            table: required_var(LEDGER_TABLE_VAR)?,
            alert_topic_arn: required_var(ALERT_TOPIC_ARN_VAR)?,
            escalation_topic_arn: required_var(ESCALATION_TOPIC_ARN_VAR)?,
        })
    }
}
