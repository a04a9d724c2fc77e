//! Lambda entry point: read config, build clients and the verifier once, serve HTTP.

// The handlers' futures nest the desk's retry loop around the SDK's own futures, deeper
// than rustc's default layout query depth of 128.
#![recursion_limit = "256"]

use std::sync::Arc;

use anshin_core::adapters::aws::{DynamoCaseStore, DynamoLedgerStore, DynamoReportStore};
use anshin_core::clock::SystemClock;
use anshin_core::config::{ConsoleConfig, ConsoleIdentity};
use anshin_core::support::SupportDesk;
use support_console::auth::{KeySource, LocalIssuer, LocalMember, Verifier};
use support_console::{router, Console, Stores};

struct Aws;

impl Stores for Aws {
    type Cases = DynamoCaseStore;
    type Ledger = DynamoLedgerStore;
    type Reports = DynamoReportStore;
}

/// The local issuer's names: nothing outside the local loop accepts them.
const LOCAL_ISSUER: &str = "http://127.0.0.1/anshin-local-issuer";
const LOCAL_AUDIENCE: &str = "anshin-console-local";

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = ConsoleConfig::from_env()?;
    let policy = config.policy.load()?;
    let aws = anshin_core::adapters::aws::sdk::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let desk = SupportDesk::new(
        config.cases.store(
            dynamodb.clone(),
            aws_sdk_kms::Client::new(&aws),
            &config.table,
        ),
        DynamoLedgerStore::new(dynamodb.clone(), config.table.clone()),
        DynamoReportStore::new(dynamodb, config.table),
        policy,
        Arc::new(SystemClock),
    );
    let (verifier, local_issuer) = match config.identity {
        ConsoleIdentity::Issuer {
            issuer,
            audience,
            jwks_url,
            groups_claim,
        } => (
            Verifier::new(issuer, audience, groups_claim, KeySource::Url(jwks_url)).await?,
            None,
        ),
        ConsoleIdentity::Local { members } => {
            let members = members
                .iter()
                .map(|m| {
                    LocalMember::parse(m)
                        .ok_or("ANSHIN_CONSOLE_LOCAL_MEMBERS: a member id is not an id")
                })
                .collect::<Result<Vec<_>, _>>()?;
            let issuer = LocalIssuer::generate(LOCAL_ISSUER, LOCAL_AUDIENCE, members)?;
            let verifier = Verifier::new(
                LOCAL_ISSUER,
                LOCAL_AUDIENCE,
                "cognito:groups",
                KeySource::Static(issuer.jwks()),
            )
            .await?;
            (verifier, Some(issuer))
        }
    };
    let console = Arc::new(Console::<Aws> {
        desk,
        verifier,
        local_issuer,
    });
    lambda_http::run(router(console)).await
}
