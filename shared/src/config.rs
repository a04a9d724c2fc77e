//! Configuration, read once at cold start from the environment into a typed struct.

use std::path::PathBuf;
use std::sync::Arc;

use crate::policy::{Policy, PolicyError};
#[cfg(feature = "model")]
use crate::screening::model::{ModelError, ModelSource};
#[cfg(feature = "model")]
use crate::screening::Screener;

/// Environment variable naming a policy file that replaces the embedded one.
pub const POLICY_PATH_VAR: &str = "ANSHIN_POLICY_PATH";
/// Environment variable with the ARN of the SNS topic support listens on.
pub const ALERT_TOPIC_ARN_VAR: &str = "ANSHIN_ALERT_TOPIC_ARN";
/// Environment variable with the ARN of the SNS topic user-escalation takes commands from.
pub const ESCALATION_TOPIC_ARN_VAR: &str = "ANSHIN_ESCALATION_TOPIC_ARN";
/// Environment variable with the ARN of the SNS topic report-intake takes resolutions from.
pub const RESOLUTION_TOPIC_ARN_VAR: &str = "ANSHIN_RESOLUTION_TOPIC_ARN";
/// Environment variable naming the DynamoDB table: ledger, reports and outbox.
pub const TABLE_VAR: &str = "ANSHIN_TABLE";

/// Environment variable with the KMS key (id, ARN or alias) that seals case text.
pub const CASE_KEY_ID_VAR: &str = "ANSHIN_CASE_KEY_ID";
/// Environment variable: days a closed case (its text included) is kept; default 180.
pub const CASE_RETENTION_DAYS_VAR: &str = "ANSHIN_CASE_RETENTION_DAYS";
/// The console's token issuer (Cognito: `https://cognito-idp.<region>.amazonaws.com/<pool>`).
pub const CONSOLE_ISSUER_VAR: &str = "ANSHIN_CONSOLE_ISSUER";
/// The audience the console's tokens must name (Cognito: the app client id).
pub const CONSOLE_AUDIENCE_VAR: &str = "ANSHIN_CONSOLE_AUDIENCE";
/// Where the issuer's keys are; default `<issuer>/.well-known/jwks.json`.
pub const CONSOLE_JWKS_URL_VAR: &str = "ANSHIN_CONSOLE_JWKS_URL";
/// The claim that lists a member's groups; default `cognito:groups`.
pub const CONSOLE_GROUPS_CLAIM_VAR: &str = "ANSHIN_CONSOLE_GROUPS_CLAIM";
/// Local loop only: test members (`id:group+group,…`) the console signs tokens for itself.
/// Never set by the template; refused together with an issuer.
pub const CONSOLE_LOCAL_MEMBERS_VAR: &str = "ANSHIN_CONSOLE_LOCAL_MEMBERS";

/// Environment variable naming a model manifest (`manifest.json`, the model file named in
/// it beside it) that replaces the embedded model; `off` screens on rules alone.
pub const MODEL_PATH_VAR: &str = "ANSHIN_MODEL_PATH";
/// Environment variables naming a candidate model manifest and policy file, scored in
/// shadow beside the active ones. Either may be set; the other defaults to the active one.
pub const SHADOW_MODEL_PATH_VAR: &str = "ANSHIN_SHADOW_MODEL_PATH";
pub const SHADOW_POLICY_PATH_VAR: &str = "ANSHIN_SHADOW_POLICY_PATH";

fn optional_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

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
    #[error("{0} {1}")]
    Invalid(&'static str, &'static str),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[cfg(feature = "model")]
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    Embedded,
    File(PathBuf),
}

impl PolicySource {
    pub fn from_env() -> Self {
        match optional_var(POLICY_PATH_VAR) {
            Some(path) => PolicySource::File(path.into()),
            None => PolicySource::Embedded,
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

#[cfg(feature = "model")]
/// A model path setting: `off` is rules alone, a path is a manifest, unset is `default`.
fn model_setting(value: Option<String>, default: Option<ModelSource>) -> Option<ModelSource> {
    match value.as_deref() {
        Some("off") => None,
        Some(path) => Some(ModelSource::Manifest(path.into())),
        None => default,
    }
}

#[cfg(feature = "model")]
/// One screener's policy and model; `model: None` is rules alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenerSource {
    pub policy: PolicySource,
    pub model: Option<ModelSource>,
}

#[cfg(feature = "model")]
impl ScreenerSource {
    pub fn load(&self) -> Result<Screener, ConfigError> {
        let screener = Screener::new(self.policy.load()?);
        Ok(match &self.model {
            Some(model) => screener.with_classifier(Arc::new(model.load()?)),
            None => screener,
        })
    }
}

#[cfg(feature = "model")]
/// The active screener and, when a candidate is configured, its shadow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningSetup {
    pub active: ScreenerSource,
    pub shadow: Option<ScreenerSource>,
}

#[cfg(feature = "model")]
impl ScreeningSetup {
    pub fn from_env() -> Self {
        Self::from_vars(optional_var)
    }

    /// Reads the settings through `var`, so that tests need not touch the process
    /// environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let policy = match var(POLICY_PATH_VAR) {
            Some(path) => PolicySource::File(path.into()),
            None => PolicySource::Embedded,
        };
        let model = model_setting(var(MODEL_PATH_VAR), Some(ModelSource::Embedded));
        let active = ScreenerSource { policy, model };
        let shadow_policy = var(SHADOW_POLICY_PATH_VAR);
        let shadow_model = var(SHADOW_MODEL_PATH_VAR);
        let shadow = (shadow_policy.is_some() || shadow_model.is_some()).then(|| ScreenerSource {
            policy: shadow_policy
                .map_or_else(|| active.policy.clone(), |p| PolicySource::File(p.into())),
            model: model_setting(shadow_model, active.model.clone()),
        });
        ScreeningSetup { active, shadow }
    }

    /// Loads every policy and model once: a bad file fails the cold start, not a request.
    pub fn load(&self) -> Result<Screener, ConfigError> {
        let active = self.active.load()?;
        Ok(match &self.shadow {
            Some(candidate) => active.with_shadow(candidate.load()?),
            None => active,
        })
    }
}

/// How support's cases are kept (in the function's table): the key that seals their text,
/// how long a closed one stays.
#[derive(Debug, Clone)]
pub struct CaseStoreConfig {
    pub key_id: String,
    pub retention_days: u64,
}

impl CaseStoreConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let retention_days = match optional_var(CASE_RETENTION_DAYS_VAR) {
            None => crate::support::store::DEFAULT_RETENTION_DAYS,
            Some(days) => days
                .parse::<u64>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or(ConfigError::Invalid(
                    CASE_RETENTION_DAYS_VAR,
                    "must be a whole number of days, 1 to 3650",
                ))?,
        };
        Ok(CaseStoreConfig {
            key_id: required_var(CASE_KEY_ID_VAR)?,
            retention_days,
        })
    }
}

#[cfg(feature = "aws")]
impl CaseStoreConfig {
    /// The case store these settings describe, in `table`: what every function that opens
    /// or works cases builds at cold start.
    pub fn store(
        &self,
        dynamodb: aws_sdk_dynamodb::Client,
        kms: aws_sdk_kms::Client,
        table: impl Into<String>,
    ) -> crate::adapters::aws::DynamoCaseStore {
        crate::adapters::aws::DynamoCaseStore::new(
            dynamodb,
            table,
            crate::adapters::aws::KmsSealer::new(kms, self.key_id.clone()),
            self.retention_days,
        )
    }
}

/// Settings of the screen-submission function: a verdict's alert and automatic strikes are
/// written to the table's outbox, with the case a `review` or `hide` opens for support.
#[cfg(feature = "model")]
#[derive(Debug, Clone)]
pub struct ScreenConfig {
    pub screening: ScreeningSetup,
    pub table: String,
    pub cases: CaseStoreConfig,
}

#[cfg(feature = "model")]
impl ScreenConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(ScreenConfig {
            screening: ScreeningSetup::from_env(),
            table: required_var(TABLE_VAR)?,
            cases: CaseStoreConfig::from_env()?,
        })
    }
}

/// How the console learns who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleIdentity {
    /// Tokens from an OIDC issuer (Cognito in the template), keys from its JWKS.
    Issuer {
        issuer: String,
        audience: String,
        jwks_url: String,
        groups_claim: String,
    },
    /// The local loop: the console signs tokens for these test members itself.
    Local { members: Vec<String> },
}

/// Settings of the support-console function: its decisions and commands go to the table's
/// outbox, so it publishes to no topic itself.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    pub policy: PolicySource,
    pub table: String,
    pub cases: CaseStoreConfig,
    pub identity: ConsoleIdentity,
}

impl ConsoleConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let identity = match (
            optional_var(CONSOLE_ISSUER_VAR),
            optional_var(CONSOLE_LOCAL_MEMBERS_VAR),
        ) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    CONSOLE_LOCAL_MEMBERS_VAR,
                    "must not be set together with an issuer",
                ))
            }
            (Some(issuer), None) => ConsoleIdentity::Issuer {
                jwks_url: optional_var(CONSOLE_JWKS_URL_VAR).unwrap_or_else(|| {
                    format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
                }),
                audience: required_var(CONSOLE_AUDIENCE_VAR)?,
                groups_claim: optional_var(CONSOLE_GROUPS_CLAIM_VAR)
                    .unwrap_or_else(|| "cognito:groups".to_owned()),
                issuer,
            },
            (None, Some(members)) => ConsoleIdentity::Local {
                members: members
                    .split(',')
                    .map(|m| m.trim().to_owned())
                    .filter(|m| !m.is_empty())
                    .collect(),
            },
            (None, None) => return Err(ConfigError::Missing(CONSOLE_ISSUER_VAR)),
        };
        Ok(ConsoleConfig {
            policy: PolicySource::from_env(),
            table: required_var(TABLE_VAR)?,
            cases: CaseStoreConfig::from_env()?,
            identity,
        })
    }
}

/// Settings of the user-escalation function.
#[derive(Debug, Clone)]
pub struct EscalationConfig {
    pub policy: PolicySource,
    pub table: String,
}

impl EscalationConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(EscalationConfig {
            policy: PolicySource::from_env(),
            table: required_var(TABLE_VAR)?,
        })
    }
}

#[cfg(feature = "model")]
/// Settings of the report-intake function.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// The reported submission is screened as screen-submission would (no shadow here).
    pub screener: ScreenerSource,
    pub table: String,
    pub cases: CaseStoreConfig,
}

#[cfg(feature = "model")]
impl ReportConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(ReportConfig {
            screener: ScreeningSetup::from_env().active,
            table: required_var(TABLE_VAR)?,
            cases: CaseStoreConfig::from_env()?,
        })
    }
}

/// Settings of the outbox-publisher function: the table whose outbox it empties, and the
/// topic of each destination.
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    pub table: String,
    pub alert_topic_arn: String,
    pub escalation_topic_arn: String,
    pub resolution_topic_arn: String,
}

impl PublisherConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(PublisherConfig {
            table: required_var(TABLE_VAR)?,
            alert_topic_arn: required_var(ALERT_TOPIC_ARN_VAR)?,
            escalation_topic_arn: required_var(ESCALATION_TOPIC_ARN_VAR)?,
            resolution_topic_arn: required_var(RESOLUTION_TOPIC_ARN_VAR)?,
        })
    }
}

#[cfg(all(test, feature = "model"))]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn setup(vars: &[(&str, &str)]) -> ScreeningSetup {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ScreeningSetup::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn by_default_the_embedded_policy_and_model_screen_with_no_shadow() {
        let s = setup(&[]);
        assert_eq!(s.active.policy, PolicySource::Embedded);
        assert_eq!(s.active.model, Some(ModelSource::Embedded));
        assert_eq!(s.shadow, None);
    }

    #[test]
    fn model_off_screens_on_rules_alone() {
        assert_eq!(setup(&[(MODEL_PATH_VAR, "off")]).active.model, None);
    }

    #[test]
    fn a_shadow_model_alone_keeps_the_active_policy() {
        let s = setup(&[
            (POLICY_PATH_VAR, "/p.toml"),
            (SHADOW_MODEL_PATH_VAR, "/m/manifest.json"),
        ]);
        let shadow = s.shadow.unwrap();
        assert_eq!(shadow.policy, PolicySource::File("/p.toml".into()));
        assert_eq!(
            shadow.model,
            Some(ModelSource::Manifest("/m/manifest.json".into()))
        );
    }

    #[test]
    fn a_shadow_policy_alone_keeps_the_active_model() {
        let s = setup(&[(SHADOW_POLICY_PATH_VAR, "/candidate.toml")]);
        let shadow = s.shadow.unwrap();
        assert_eq!(shadow.policy, PolicySource::File("/candidate.toml".into()));
        assert_eq!(shadow.model, Some(ModelSource::Embedded));
    }

    #[test]
    fn a_missing_shadow_model_fails_the_cold_start_with_its_path() {
        let Err(error) = setup(&[(SHADOW_MODEL_PATH_VAR, "/nonexistent/manifest.json")]).load()
        else {
            panic!("a missing shadow model must fail the load");
        };
        assert!(
            error.to_string().contains("/nonexistent/manifest.json"),
            "{error}"
        );
    }
}
