//! The support-console Lambda: support's desk in the browser and as a JSON API, behind an
//! API Gateway HTTP API, run by `lambda_http` with an `axum` router.
//!
//! Pages (server-rendered, no JavaScript): `/queue`, `/cases/{id}`, `/accounts/{user}`,
//! `/reports`, `/trends`, and the public `/guidelines`. The JSON API under `/api/` carries
//! the same actions. Every request but the guidelines (and the local sign-in) is
//! authenticated by [`auth::Verifier`] — the member comes from the token, never from the
//! body — and authorised by the desk: 401 without a valid token, 403 without the group,
//! and nothing read or changed in either case. Case text is shown as text: maud escapes
//! every value it inserts.

pub mod auth;
pub mod pages;

use std::sync::Arc;

use anshin_core::escalation::LedgerStore;
use anshin_core::input::{parse_term, InvalidInput};
use anshin_core::reports::ReportStore;
use anshin_core::store::StoreError;
use anshin_core::support::desk::{Decision, QueueFilter};
use anshin_core::support::{CaseAction, CaseStore, Member, SupportDesk, SupportError};
use anshin_core::taxonomy::Category;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::warn;

use auth::{AuthError, LocalIssuer, Verifier, SESSION_COOKIE};
use pages::Lang;

/// How many days the trends page looks back.
pub const TREND_DAYS: u64 = 30;

/// The three ports the console works with, as one type parameter. What a decision sends
/// goes into the outbox with the case (see `anshin_core::support::store`): the console
/// publishes nothing itself.
pub trait Stores: Send + Sync + 'static {
    type Cases: CaseStore + 'static;
    type Ledger: LedgerStore + 'static;
    type Reports: ReportStore + 'static;
}

pub struct Console<S: Stores> {
    pub desk: SupportDesk<S::Cases, S::Ledger, S::Reports>,
    pub verifier: Verifier,
    /// Only in the local loop: the issuer behind `/sign-in`.
    pub local_issuer: Option<LocalIssuer>,
}

type App<S> = Arc<Console<S>>;

pub fn router<S: Stores>(console: Arc<Console<S>>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/guidelines", get(guidelines_page::<S>))
        .route("/lang/{lang}", get(set_lang))
        .route("/sign-in", get(sign_in_page::<S>).post(sign_in::<S>))
        .route("/sign-out", post(sign_out))
        .route("/queue", get(queue_page::<S>))
        .route("/cases/{id}", get(case_page::<S>))
        .route("/cases/{id}/claim", post(claim_form::<S>))
        .route("/cases/{id}/decide", post(decide_form::<S>))
        .route("/accounts/{id}", get(account_page::<S>))
        .route("/accounts/{id}/withdrawal", post(withdrawal_form::<S>))
        .route("/accounts/{id}/reinstate", post(reinstate_form::<S>))
        .route("/violations/{id}/revoke", post(revoke_form::<S>))
        .route("/reports", get(reports_page::<S>))
        .route("/trends", get(trends_page::<S>))
        .route("/api/me", get(api_me::<S>))
        .route("/api/queue", get(api_queue::<S>))
        .route("/api/cases/{id}", get(api_case::<S>))
        .route("/api/cases/{id}/claim", post(api_claim::<S>))
        .route("/api/cases/{id}/decision", post(api_decide::<S>))
        .route("/api/accounts/{id}", get(api_account::<S>))
        .route(
            "/api/accounts/{id}/withdrawal-confirmation",
            post(api_withdrawal::<S>),
        )
        .route("/api/accounts/{id}/reinstatement", post(api_reinstate::<S>))
        .route("/api/violations/{id}/revocation", post(api_revoke::<S>))
        .route("/api/reports", get(api_reports::<S>))
        .route("/api/trends", get(api_trends::<S>))
        .with_state(console)
}

// ---- identity ---------------------------------------------------------------------------

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| cookie(headers, SESSION_COOKIE))
}

async fn authenticate<S: Stores>(
    app: &Console<S>,
    headers: &HeaderMap,
) -> Result<Member, AuthError> {
    let token = bearer(headers).ok_or(AuthError::Missing)?;
    app.verifier.verify(token).await
}

fn lang(headers: &HeaderMap) -> Lang {
    match cookie(headers, "lang") {
        Some("en") => Lang::En,
        _ => Lang::Ja,
    }
}

// ---- errors -----------------------------------------------------------------------------

fn status_of(error: &SupportError) -> StatusCode {
    match error {
        SupportError::Forbidden(_) => StatusCode::FORBIDDEN,
        SupportError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        SupportError::NotFound(_) => StatusCode::NOT_FOUND,
        SupportError::Conflict(_) => StatusCode::CONFLICT,
        SupportError::Contention(_) => StatusCode::SERVICE_UNAVAILABLE,
        // An outage passes and is worth a retry (503); a request the table refuses as
        // invalid, or an item this build cannot read, is a defect that will not (500).
        SupportError::Store(store) => match store {
            StoreError::Unavailable(_) | StoreError::Throttled(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            StoreError::Rejected(_) | StoreError::Malformed(_) | StoreError::Inconsistent(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        },
    }
}

/// What a caller is told: the refusal itself for what the caller can change, and only the
/// kind for a store failure — its detail (AWS's error text, an item's decoding error) stays
/// in the log.
fn client_message(error: &SupportError) -> String {
    match error {
        SupportError::Store(store) => {
            format!("{}: nothing was recorded; retry later", store.error_type())
        }
        other => other.to_string(),
    }
}

/// A refusal as JSON: the kind, and a message that names fields, never their values.
fn api_error(status: StatusCode, kind: &str, message: String) -> Response {
    (status, Json(json!({"error": kind, "message": message}))).into_response()
}

fn api_auth_error(e: AuthError) -> Response {
    warn!(reason = %e, "unauthenticated API request");
    let mut r = api_error(StatusCode::UNAUTHORIZED, "unauthenticated", e.to_string());
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

fn api_support_error(e: SupportError) -> Response {
    let status = status_of(&e);
    let kind = match &e {
        SupportError::Forbidden(_) => "forbidden",
        SupportError::Invalid(_) => "invalid_input",
        SupportError::NotFound(_) => "not_found",
        SupportError::Conflict(_) => "conflict",
        SupportError::Contention(_) => "unavailable",
        SupportError::Store(_) if status == StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        SupportError::Store(_) => "internal_error",
    };
    warn!(status = status.as_u16(), error = %e, "support action refused or failed");
    api_error(status, kind, client_message(&e))
}

fn page_auth_error(lang: Lang, e: AuthError) -> Response {
    warn!(reason = %e, "unauthenticated page request");
    let title = lang.pick("サインインが必要です", "Sign-in needed");
    (
        StatusCode::UNAUTHORIZED,
        pages::message_page(lang, title, None, &e.to_string(), true),
    )
        .into_response()
}

fn page_support_error(lang: Lang, member: &Member, e: SupportError) -> Response {
    let status = status_of(&e);
    warn!(status = status.as_u16(), error = %e, "support action refused or failed");
    let title = match status {
        StatusCode::FORBIDDEN => lang.pick("権限がありません", "Not allowed"),
        StatusCode::NOT_FOUND => lang.pick("見つかりません", "Not found"),
        StatusCode::CONFLICT => lang.pick("実行できません", "Refused"),
        _ => lang.pick("エラー", "Error"),
    };
    (
        status,
        pages::message_page(lang, title, Some(member), &client_message(&e), false),
    )
        .into_response()
}

// ---- forms ------------------------------------------------------------------------------

/// `application/x-www-form-urlencoded` pairs (checkboxes repeat their name).
fn form_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn decision_from(action: Option<&str>, categories: &[String]) -> Result<Decision, SupportError> {
    let action: CaseAction = parse_term(
        "action",
        action.ok_or_else(|| InvalidInput::new("action", "is required"))?,
    )?;
    let categories = categories
        .iter()
        .map(|c| parse_term::<Category>("categories", c))
        .collect::<Result<_, _>>()?;
    Ok(Decision { action, categories })
}

// ---- pages ------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct FilterParams {
    category: Option<String>,
    kind: Option<String>,
    decision: Option<String>,
    status: Option<String>,
    origin: Option<String>,
}

impl FilterParams {
    fn filter(&self) -> Result<QueueFilter, InvalidInput> {
        let term = |field: &str, v: &Option<String>| -> Option<String> {
            v.as_deref().filter(|s| !s.is_empty()).map(|s| {
                let _ = field;
                s.to_owned()
            })
        };
        Ok(QueueFilter {
            category: term("category", &self.category)
                .map(|s| parse_term("category", &s))
                .transpose()?,
            kind: term("kind", &self.kind)
                .map(|s| parse_term("kind", &s))
                .transpose()?,
            decision: term("decision", &self.decision)
                .map(|s| match s.as_str() {
                    "review" => Ok(anshin_core::verdict::Decision::Review),
                    "hide" => Ok(anshin_core::verdict::Decision::Hide),
                    _ => Err(InvalidInput::new("decision", "must be one of review, hide")),
                })
                .transpose()?,
            status: term("status", &self.status)
                .map(|s| parse_term("status", &s))
                .transpose()?,
            origin: term("origin", &self.origin)
                .map(|s| parse_term("origin", &s))
                .transpose()?,
        })
    }
}

macro_rules! member_or_401 {
    ($app:expr, $headers:expr, $lang:expr) => {
        match authenticate(&$app, &$headers).await {
            Ok(m) => m,
            Err(e) => return page_auth_error($lang, e),
        }
    };
}

async fn guidelines_page<S: Stores>(State(app): State<App<S>>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let member = authenticate(&app, &headers).await.ok();
    pages::guidelines(lang, member.as_ref(), app.desk.policy()).into_response()
}

async fn set_lang(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let code = if code == "en" { "en" } else { "ja" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_owned()))
        })
        .unwrap_or_else(|| "/queue".to_owned());
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={code}; Path=/; SameSite=Lax; Max-Age=31536000"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn sign_in_page<S: Stores>(State(app): State<App<S>>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    match &app.local_issuer {
        Some(issuer) => pages::sign_in(lang, issuer.members()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            pages::message_page(lang, lang.pick("サインイン", "Sign in"), None,
                lang.pick("組織のサインイン（Cognito）から取得したトークンを Authorization ヘッダーで送ってください。", "Sign in with your organisation's identity provider (Cognito) and send its token as Authorization: Bearer."), false),
        )
            .into_response(),
    }
}

/// Local only: signs a token for a test member and sets it as the session cookie, after
/// checking it with the same verifier every request goes through.
async fn sign_in<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let lang = lang(&headers);
    let Some(issuer) = &app.local_issuer else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let pairs = form_pairs(&body);
    let Some(token) = field(&pairs, "member").and_then(|m| issuer.token_for(m)) else {
        return page_auth_error(lang, AuthError::Invalid("unknown test member".into()));
    };
    if let Err(e) = app.verifier.verify(&token).await {
        return page_auth_error(lang, e);
    }
    let mut r = Redirect::to("/queue").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn sign_out() -> Response {
    let mut r = Redirect::to("/guidelines").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("anshin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

async fn queue_page<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Query(params): Query<FilterParams>,
) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    let filter = match params.filter() {
        Ok(f) => f,
        Err(e) => return page_support_error(lang, &member, e.into()),
    };
    match app.desk.queue(&member, &filter).await {
        Ok(cases) => {
            pages::queue(lang, &member, app.desk.policy(), &filter, &cases).into_response()
        }
        Err(e) => page_support_error(lang, &member, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    done: Option<String>,
}

fn notice_text(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "claimed" => lang.pick("担当しました。", "Claimed."),
        "decided" => lang.pick(
            "判断を記録しました。通知とコマンドは判断と一緒に保存され、順次送信されます。",
            "Decision recorded; its messages were saved with it and go out shortly.",
        ),
        "sent" => lang.pick(
            "コマンドを記録しました。user-escalation への反映まで数秒かかることがあります。",
            "Command recorded for user-escalation; it may take a few seconds to show.",
        ),
        _ => return None,
    })
}

async fn case_page<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    match app.desk.case(&member, &id).await {
        Ok(view) => pages::case(
            lang,
            &member,
            app.desk.policy(),
            &view,
            notice_text(lang, n.done.as_deref()),
        )
        .into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

async fn claim_form<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    match app.desk.claim(&member, &id).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}?done=claimed")).into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

async fn decide_form<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    let pairs = form_pairs(&body);
    let categories: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "category")
        .map(|(_, v)| v.clone())
        .collect();
    let result = match decision_from(field(&pairs, "action"), &categories) {
        Ok(d) => app.desk.decide(&member, &id, &d).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/cases/{id}?done=decided")).into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

async fn account_page<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    match app.desk.account(&member, &id).await {
        Ok(view) => pages::account(
            lang,
            &member,
            app.desk.policy(),
            &id,
            &view,
            notice_text(lang, n.done.as_deref()),
        )
        .into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

async fn withdrawal_form<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    match app.desk.confirm_withdrawal(&member, &id).await {
        Ok(_) => Redirect::to(&format!("/accounts/{id}?done=sent")).into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

async fn reinstate_form<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    let pairs = form_pairs(&body);
    match app
        .desk
        .reinstate(&member, &id, field(&pairs, "reason").unwrap_or(""))
        .await
    {
        Ok(_) => Redirect::to(&format!("/accounts/{id}?done=sent")).into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

async fn revoke_form<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    let pairs = form_pairs(&body);
    match app
        .desk
        .revoke_strike(&member, &id, field(&pairs, "reason").unwrap_or(""))
        .await
    {
        Ok(sent) => Redirect::to(&format!("/accounts/{}?done=sent", sent.user_id)).into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

async fn reports_page<S: Stores>(State(app): State<App<S>>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    match app.desk.report_targets(&member).await {
        Ok(targets) => pages::reports(lang, &member, app.desk.policy(), &targets).into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

async fn trends_page<S: Stores>(State(app): State<App<S>>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let member = member_or_401!(app, headers, lang);
    match app.desk.trends(&member, TREND_DAYS).await {
        Ok(trends) => pages::trends(lang, &member, app.desk.policy(), &trends).into_response(),
        Err(e) => page_support_error(lang, &member, e),
    }
}

// ---- JSON API ---------------------------------------------------------------------------

macro_rules! api_member {
    ($app:expr, $headers:expr) => {
        match authenticate(&$app, &$headers).await {
            Ok(m) => m,
            Err(e) => return api_auth_error(e),
        }
    };
}

fn api_result<T: serde::Serialize>(
    status: StatusCode,
    result: Result<T, SupportError>,
) -> Response {
    match result {
        Ok(value) => (status, Json(value)).into_response(),
        Err(e) => api_support_error(e),
    }
}

async fn api_me<S: Stores>(State(app): State<App<S>>, headers: HeaderMap) -> Response {
    let member = api_member!(app, headers);
    Json(member).into_response()
}

async fn api_queue<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Query(params): Query<FilterParams>,
) -> Response {
    let member = api_member!(app, headers);
    let result = match params.filter() {
        Ok(filter) => app.desk.queue(&member, &filter).await,
        Err(e) => Err(e.into()),
    };
    api_result(StatusCode::OK, result)
}

async fn api_case<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let member = api_member!(app, headers);
    api_result(StatusCode::OK, app.desk.case(&member, &id).await)
}

async fn api_claim<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let member = api_member!(app, headers);
    api_result(StatusCode::OK, app.desk.claim(&member, &id).await)
}

/// `{"action": "confirm" | "false_positive" | "keep_hidden", "categories": [...]}`; any
/// other field (a `decided_by` above all) is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    action: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: Option<String>,
}

fn json_body<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, SupportError> {
    let value: Value =
        serde_json::from_str(body).map_err(|_| InvalidInput::new("$", "is not JSON"))?;
    Ok(anshin_core::input::parse_payload(value)?)
}

async fn api_decide<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let member = api_member!(app, headers);
    let result = match json_body::<DecisionBody>(&body)
        .and_then(|b| decision_from(b.action.as_deref(), &b.categories))
    {
        Ok(decision) => app.desk.decide(&member, &id, &decision).await,
        Err(e) => Err(e),
    };
    api_result(StatusCode::OK, result)
}

async fn api_account<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let member = api_member!(app, headers);
    api_result(StatusCode::OK, app.desk.account(&member, &id).await)
}

async fn api_withdrawal<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let member = api_member!(app, headers);
    api_result(
        StatusCode::ACCEPTED,
        app.desk.confirm_withdrawal(&member, &id).await,
    )
}

async fn api_reinstate<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let member = api_member!(app, headers);
    let result = match json_body::<ReasonBody>(&body) {
        Ok(b) => {
            app.desk
                .reinstate(&member, &id, b.reason.as_deref().unwrap_or(""))
                .await
        }
        Err(e) => Err(e),
    };
    api_result(StatusCode::ACCEPTED, result)
}

async fn api_revoke<S: Stores>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let member = api_member!(app, headers);
    let result = match json_body::<ReasonBody>(&body) {
        Ok(b) => {
            app.desk
                .revoke_strike(&member, &id, b.reason.as_deref().unwrap_or(""))
                .await
        }
        Err(e) => Err(e),
    };
    api_result(StatusCode::ACCEPTED, result)
}

async fn api_reports<S: Stores>(State(app): State<App<S>>, headers: HeaderMap) -> Response {
    let member = api_member!(app, headers);
    api_result(StatusCode::OK, app.desk.report_targets(&member).await)
}

async fn api_trends<S: Stores>(State(app): State<App<S>>, headers: HeaderMap) -> Response {
    let member = api_member!(app, headers);
    api_result(StatusCode::OK, app.desk.trends(&member, TREND_DAYS).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode_plus_percent_and_repeated_names() {
        let pairs = form_pairs("category=scam&category=spam&reason=a+b%E3%81%82&action=confirm");
        assert_eq!(pairs.iter().filter(|(k, _)| k == "category").count(), 2);
        assert_eq!(field(&pairs, "reason"), Some("a bあ"));
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn an_outage_is_503_a_defect_500_and_neither_tells_the_caller_the_stores_detail() {
        let detail = "GetItem: dispatch failure on host table-anshin-internal";
        for (error, status) in [
            (
                StoreError::Unavailable(detail.into()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                StoreError::Throttled(detail.into()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                StoreError::Rejected(detail.into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                StoreError::Malformed(detail.into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                StoreError::Inconsistent(detail.into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ] {
            let error = SupportError::Store(error);
            assert_eq!(status_of(&error), status, "{error}");
            let message = client_message(&error);
            assert!(!message.contains("dispatch"), "{message}");
            assert!(message.contains("nothing was recorded"), "{message}");
        }
        let conflict = SupportError::Conflict("case sub-1 was decided differently".into());
        assert_eq!(status_of(&conflict), StatusCode::CONFLICT);
        assert_eq!(
            client_message(&conflict),
            "case sub-1 was decided differently"
        );
    }
}
