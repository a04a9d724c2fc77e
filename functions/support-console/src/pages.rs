//! The console's pages, rendered on the server with maud: every value inserted into the
//! markup is escaped, so a posting that holds `<script>` shows as text and runs nothing.
//! No JavaScript at all: forms post, the server redirects.

use std::collections::BTreeSet;

use anshin_core::escalation::AccountStanding;
use anshin_core::policy::Policy;
use anshin_core::reports::TargetTally;
use anshin_core::support::case::{Case, CaseSummary};
use anshin_core::support::desk::{AccountView, CaseView, QueueFilter, ReportTarget};
use anshin_core::support::trends::Trends;
use anshin_core::support::Member;
use anshin_core::taxonomy::{Category, SubmissionKind};
use anshin_core::verdict::{Evidence, Field};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The reader's language: Japanese by default, English on request (the `lang` cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn pick(self, ja: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    fn code(self) -> &'static str {
        self.pick("ja", "en")
    }
}

const STYLE: &str = "body{font-family:system-ui,'Hiragino Sans','Noto Sans CJK JP',sans-serif;margin:0;color:#1d2330}\
header{background:#243b53;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}\
header a{color:#fff}main{padding:1em 1.4em;max-width:72em}table{border-collapse:collapse;width:100%}\
td,th{border-bottom:1px solid #d9e2ec;padding:.35em .5em;text-align:left;vertical-align:top}\
.posting{white-space:pre-wrap;border:1px solid #bcccdc;padding:.8em;background:#f8fafc}\
mark{background:#ffd166;padding:0 .1em}.tag{display:inline-block;background:#e4e7eb;border-radius:3px;padding:0 .4em;margin:0 .2em .2em 0}\
.urgent{color:#b42318;font-weight:bold}.high{color:#b54708}.muted{color:#627d98}\
form.inline{display:inline}fieldset{border:1px solid #bcccdc;margin:.6em 0}.error{background:#fde2e1;padding:.6em}\
.ok{background:#e3f9e5;padding:.6em}button{cursor:pointer}";

pub fn layout(lang: Lang, title: &str, member: Option<&Member>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — anshin" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "anshin 安心" }
                    @if member.is_some() {
                        a href="/queue" { (lang.pick("キュー", "Queue")) }
                        a href="/reports" { (lang.pick("通報", "Reports")) }
                        a href="/trends" { (lang.pick("傾向", "Trends")) }
                    }
                    a href="/guidelines" { (lang.pick("ガイドライン", "Guidelines")) }
                    span style="margin-left:auto" {
                        a href="/lang/ja" { "日本語" } " · " a href="/lang/en" { "English" }
                        @if let Some(m) = member {
                            " · " span id="member" { (m.name()) }
                            " "
                            form.inline method="post" action="/sign-out" { button { (lang.pick("サインアウト", "Sign out")) } }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

pub fn message_page(
    lang: Lang,
    title: &str,
    member: Option<&Member>,
    text: &str,
    sign_in: bool,
) -> Markup {
    layout(
        lang,
        title,
        member,
        html! {
            p.error { (text) }
            @if sign_in { p { a href="/sign-in" { (lang.pick("サインイン", "Sign in")) } } }
        },
    )
}

fn category_name(policy: &Policy, lang: Lang, c: Category) -> String {
    let p = policy.category(c);
    match lang {
        Lang::Ja => p.name_ja.clone(),
        Lang::En => p.name_en.clone(),
    }
}

fn when(t: u64) -> String {
    // Days and seconds since the epoch as a UTC date and time, without a date library.
    let (days, secs) = (t / 86_400, t % 86_400);
    let (y, m, d) = civil(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

pub fn day_label(day: u64) -> String {
    let (_, m, d) = civil(day as i64);
    format!("{m:02}-{d:02}")
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The reports that weigh on a user now: one per reporter and category inside the window,
/// and new accounts' reports still held for the brigade window.
fn reports_on(tally: &TargetTally) -> usize {
    let counted: usize = tally
        .scores()
        .values()
        .map(|(_, reporters)| reporters)
        .sum();
    counted + tally.held.iter().filter(|h| !h.brigading).count()
}

fn urgency_class(c: &CaseSummary) -> &'static str {
    c.urgency.as_str()
}

pub fn queue(
    lang: Lang,
    member: &Member,
    policy: &Policy,
    filter: &QueueFilter,
    cases: &[CaseSummary],
) -> Markup {
    let selected = |a: Option<&str>, b: &str| a == Some(b);
    layout(
        lang,
        lang.pick("確認キュー", "Review queue"),
        Some(member),
        html! {
            form method="get" action="/queue" {
                label { (lang.pick("カテゴリ", "Category")) " "
                    select name="category" {
                        option value="" { "—" }
                        @for c in Category::ALL {
                            option value=(c.id()) selected[selected(filter.category.map(|c| c.id()), c.id())] { (category_name(policy, lang, c)) }
                        }
                    }
                }
                " "
                label { (lang.pick("種別", "Kind")) " "
                    select name="kind" {
                        option value="" { "—" }
                        @for k in SubmissionKind::ALL {
                            option value=(k.as_str()) selected[selected(filter.kind.map(|k| k.as_str()), k.as_str())] { (k.as_str()) }
                        }
                    }
                }
                " "
                label { (lang.pick("判定", "Decision")) " "
                    select name="decision" {
                        option value="" { "—" }
                        @for d in ["review", "hide"] {
                            option value=(d) selected[selected(filter.decision.map(|d| d.as_str()), d)] { (d) }
                        }
                    }
                }
                " "
                label { (lang.pick("状態", "Status")) " "
                    select name="status" {
                        option value="" { "—" }
                        @for s in ["open", "claimed"] {
                            option value=(s) selected[selected(filter.status.map(|s| s.as_str()), s)] { (s) }
                        }
                    }
                }
                " " button { (lang.pick("絞り込む", "Filter")) }
            }
            p.muted { (cases.len()) (lang.pick(" 件（緊急度順、古い順）", " cases (by urgency, then oldest first)")) }
            table id="queue" {
                tr { th { (lang.pick("緊急度", "Urgency")) } th { (lang.pick("ケース", "Case")) } th { (lang.pick("種別", "Kind")) }
                     th { (lang.pick("判定", "Decision")) } th { (lang.pick("カテゴリ", "Categories")) } th { (lang.pick("投稿者", "Author")) }
                     th { (lang.pick("受付", "Opened")) } th { (lang.pick("状態", "Status")) } th {} }
                @for c in cases {
                    tr.case-row data-case=(c.case_id) {
                        td class=(urgency_class(c)) { (c.urgency.as_str()) }
                        td { a href={ "/cases/" (c.case_id) } { (c.submission_id.as_deref().unwrap_or(&c.case_id)) } br; span.muted { (c.origin.as_str()) } }
                        td { (c.kind.map_or("—", |k| k.as_str())) }
                        td { (c.decision.map_or("—", |d| d.as_str())) }
                        td { @for cat in &c.categories { span.tag { (category_name(policy, lang, *cat)) } } }
                        td { a href={ "/accounts/" (c.author_id) } { (c.author_id) } }
                        td { (when(c.opened_at)) }
                        td { (c.status.as_str()) @if let Some(by) = &c.claimed_by { br; span.muted { (by) } } }
                        td {
                            @if c.claimed_by.is_none() {
                                form.inline method="post" action={ "/cases/" (c.case_id) "/claim" } {
                                    button { (lang.pick("担当する", "Claim")) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A field's text with its evidence spans marked; every piece is escaped by maud.
fn highlighted(text: &str, spans: &[(usize, usize, String)]) -> Markup {
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<(usize, usize, String)> = spans
        .iter()
        .map(|(s, e, c)| ((*s).min(chars.len()), (*e).min(chars.len()), c.clone()))
        .filter(|(s, e, _)| s < e)
        .collect();
    spans.sort();
    let mut pieces: Vec<(String, Option<String>)> = Vec::new();
    let mut at = 0;
    for (start, end, category) in spans {
        let start = start.max(at);
        if start >= end {
            continue;
        }
        if start > at {
            pieces.push((chars[at..start].iter().collect(), None));
        }
        pieces.push((chars[start..end].iter().collect(), Some(category)));
        at = end;
    }
    if at < chars.len() {
        pieces.push((chars[at..].iter().collect(), None));
    }
    html! {
        @for (piece, category) in pieces {
            @match category {
                Some(c) => mark title=(c) { (piece) },
                None => (piece),
            }
        }
    }
}

fn spans_in(case: &Case, field: Field) -> Vec<(usize, usize, String)> {
    case.content
        .verdict
        .iter()
        .flat_map(|v| v.categories.iter())
        .flat_map(|f| f.evidence.iter().map(move |e: &Evidence| (f.category, e)))
        .filter(|(_, e)| e.field == field)
        .map(|(c, e)| (e.start, e.end, c.id().to_owned()))
        .collect()
}

pub fn case(
    lang: Lang,
    member: &Member,
    policy: &Policy,
    view: &CaseView,
    notice: Option<&str>,
) -> Markup {
    let case = &view.case;
    let s = &case.summary;
    let flagged: BTreeSet<Category> = s.categories.iter().copied().collect();
    layout(
        lang,
        &format!(
            "{} {}",
            lang.pick("ケース", "Case"),
            s.submission_id.as_deref().unwrap_or(&s.case_id)
        ),
        Some(member),
        html! {
            @if let Some(n) = notice { p.ok { (n) } }
            p {
                span.tag { (s.origin.as_str()) } span.tag class=(s.urgency.as_str()) { (s.urgency.as_str()) }
                span.tag { (lang.pick("状態: ", "status: ")) span id="status" { (s.status.as_str()) } }
                @if let Some(d) = s.decision { span.tag { (lang.pick("判定: ", "decision: ")) (d.as_str()) } }
                @if let Some(k) = s.kind { span.tag { (k.as_str()) } }
                " " span.muted { (lang.pick("ポリシー ", "policy ")) (s.policy_version) " · " (lang.pick("モデル ", "model ")) (s.model_version.as_deref().unwrap_or("—")) }
            }
            h2 { (lang.pick("投稿内容", "What was posted")) }
            @match &case.content.text {
                Some(text) => {
                    @if let Some(title) = &text.title {
                        div.posting id="posting-title" { strong { (highlighted(title, &spans_in(case, Field::Title))) } }
                    }
                    div.posting id="posting-body" { (highlighted(&text.body, &spans_in(case, Field::Body))) }
                }
                None => p.muted { (lang.pick("本文なし（通報のみ）", "No text (reports only)")) }
            }
            @if let Some(verdict) = &case.content.verdict {
                h2 { (lang.pick("スコアと根拠", "Scores and sources")) }
                table {
                    tr { th { (lang.pick("カテゴリ", "Category")) } th { (lang.pick("スコア", "Score")) } th { (lang.pick("検出", "Source")) } th { (lang.pick("ルール", "Rules")) } th { (lang.pick("修正のお願い", "Fix-it message")) } }
                    @for f in &verdict.categories {
                        tr {
                            td { (category_name(policy, lang, f.category)) br; span.muted { (f.severity.as_str()) @if f.urgent { " · urgent" } } }
                            td { (format!("{:.3}", f.score)) }
                            td { (match f.source { anshin_core::verdict::ScoreSource::Rule => "rule", anshin_core::verdict::ScoreSource::Model => "model" }) }
                            td { @for r in &f.rules { span.tag { (r) } } }
                            td { (match lang { Lang::Ja => &f.message_ja, Lang::En => &f.message_en }) }
                        }
                    }
                }
            }
            h2 { (lang.pick("投稿者", "Author")) " " a href={ "/accounts/" (s.author_id) } { (s.author_id) } }
            (standing_summary(lang, &view.author.standing))
            p { (lang.pick("通報件数: ", "Reports: ")) span id="report-count" { (reports_on(&view.reports)) } }
            (case_list(lang, policy, &view.author.cases))
            h2 { (lang.pick("判断", "Decision")) }
            @match &s.resolution {
                Some(r) => p.ok id="resolution" {
                    (r.outcome.as_str()) " · " (r.decided_by) " · " (when(r.decided_at))
                    @for c in &r.final_categories { " " span.tag { (category_name(policy, lang, *c)) } }
                },
                None => {
                    @if s.claimed_by.is_none() {
                        form method="post" action={ "/cases/" (s.case_id) "/claim" } { button id="claim" { (lang.pick("このケースを担当する", "Claim this case")) } }
                    }
                    form method="post" action={ "/cases/" (s.case_id) "/decide" } {
                        fieldset {
                            legend { (lang.pick("違反カテゴリ（確定・修正依頼のとき）", "Categories (to confirm or keep hidden)")) }
                            @for c in Category::ALL {
                                label style="display:inline-block;margin-right:1em" {
                                    input type="checkbox" name="category" value=(c.id()) checked[flagged.contains(&c)];
                                    " " (category_name(policy, lang, c))
                                }
                            }
                        }
                        button name="action" value="confirm" id="confirm" { (lang.pick("違反を確定（ストライク）", "Confirm violation (strike)")) }
                        " "
                        button name="action" value="keep_hidden" id="keep-hidden" { (lang.pick("非表示のまま修正を依頼", "Keep hidden, ask to fix")) }
                        " "
                        button name="action" value="false_positive" id="false-positive" { (lang.pick("誤検知（公開）", "False positive (release)")) }
                    }
                }
            }
            h2 { (lang.pick("履歴", "History")) }
            ul { @for e in &case.history { li { (when(e.at)) " · " (e.actor) " · " (e.what) } } }
        },
    )
}

fn standing_summary(lang: Lang, s: &AccountStanding) -> Markup {
    html! {
        p {
            (lang.pick("レベル: ", "Level: ")) strong id="level" { (s.level.as_str()) }
            " · " (lang.pick("ポイント: ", "Points: ")) strong { (s.points) }
            " · " (lang.pick("有効なストライク: ", "Active strikes: ")) strong id="strike-count" { (s.active_strikes.len()) }
            @if let Some(p) = &s.pending_withdrawal {
                " · " span.urgent { (lang.pick("強制退会の承認待ち（要求: ", "Withdrawal pending (requested by ")) (p.requested_by) ")" }
            }
        }
    }
}

fn case_list(lang: Lang, policy: &Policy, cases: &[CaseSummary]) -> Markup {
    html! {
        @if !cases.is_empty() {
            table {
                tr { th { (lang.pick("ケース", "Case")) } th { (lang.pick("受付", "Opened")) } th { (lang.pick("状態", "Status")) } th { (lang.pick("結果", "Outcome")) } }
                @for c in cases {
                    tr {
                        td { a href={ "/cases/" (c.case_id) } { (c.submission_id.as_deref().unwrap_or(&c.case_id)) } }
                        td { (when(c.opened_at)) }
                        td { (c.status.as_str()) }
                        td { @if let Some(r) = &c.resolution { (r.outcome.as_str()) @for cat in &r.final_categories { " " span.tag { (category_name(policy, lang, *cat)) } } } }
                    }
                }
            }
        }
    }
}

pub fn account(
    lang: Lang,
    member: &Member,
    policy: &Policy,
    user_id: &str,
    view: &AccountView,
    notice: Option<&str>,
) -> Markup {
    let s = &view.standing;
    layout(
        lang,
        &format!("{} {}", lang.pick("アカウント", "Account"), user_id),
        Some(member),
        html! {
            @if let Some(n) = notice { p.ok id="notice" { (n) } }
            (standing_summary(lang, s))
            @if s.pending_withdrawal.is_some() {
                form method="post" action={ "/accounts/" (user_id) "/withdrawal" } {
                    button id="confirm-withdrawal" { (lang.pick("強制退会を承認（リーダー）", "Confirm forced withdrawal (lead)")) }
                }
            }
            @if s.level == anshin_core::policy::ladder::AccountLevel::Withdrawn {
                form method="post" action={ "/accounts/" (user_id) "/reinstate" } {
                    input name="reason" required placeholder=(lang.pick("理由", "Reason"));
                    " " button id="reinstate" { (lang.pick("復帰させる（リーダー）", "Reinstate (lead)")) }
                }
            }
            h2 { (lang.pick("有効なストライク", "Active strikes")) }
            table id="strikes" {
                tr { th { (lang.pick("違反", "Violation")) } th { (lang.pick("カテゴリ", "Category")) } th { (lang.pick("ポイント", "Points")) } th { (lang.pick("確定", "Confirmed")) } th { (lang.pick("期限", "Expires")) } th {} }
                @for strike in &s.active_strikes {
                    tr.strike {
                        td { (strike.violation_id) }
                        td { (category_name(policy, lang, strike.category)) }
                        td { (strike.points) }
                        td { (when(strike.confirmed_at)) }
                        td { (when(strike.expires_at)) }
                        td {
                            form.inline method="post" action={ "/violations/" (strike.violation_id) "/revoke" } {
                                input type="hidden" name="user_id" value=(user_id);
                                input name="reason" required placeholder=(lang.pick("取消の理由（異議）", "Reason (appeal)"));
                                " " button { (lang.pick("取り消す", "Revoke")) }
                            }
                        }
                    }
                }
            }
            h2 { (lang.pick("監査記録", "Audit trail")) }
            table id="audit" {
                tr { th { (lang.pick("日時", "When")) } th { (lang.pick("担当", "Who")) } th { (lang.pick("操作", "Action")) } th { (lang.pick("レベル", "Level")) } th { (lang.pick("理由", "Reason")) } }
                @for a in s.history.iter().rev() {
                    tr {
                        td { (when(a.at)) } td { (a.actor) }
                        td { (serde_json::to_value(a.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) }
                        td { (a.level_before.as_str()) " → " (a.level_after.as_str()) }
                        td { (a.reason.as_deref().unwrap_or("")) }
                    }
                }
            }
            h2 { (lang.pick("ケース", "Cases")) }
            (case_list(lang, policy, &view.cases))
        },
    )
}

pub fn reports(lang: Lang, member: &Member, policy: &Policy, targets: &[ReportTarget]) -> Markup {
    layout(
        lang,
        lang.pick("通報された利用者", "Reported users"),
        Some(member),
        html! {
            table id="report-targets" {
                tr { th { (lang.pick("利用者", "User")) } th { (lang.pick("カテゴリ別（重み・通報者数）", "By category (weight, reporters)")) } th { (lang.pick("通報", "Reports")) } th {} }
                @for t in targets {
                    tr {
                        td { a href={ "/accounts/" (t.case.author_id) } { (t.case.author_id) }
                             @if t.case.reports.as_ref().is_some_and(|r| r.brigading) { br; span.urgent { (lang.pick("組織的通報の疑い", "brigading suspected")) } } }
                        td { @for (c, score, n) in &t.scores { span.tag { (c.id()) ": " (format!("{score:.2}")) " / " (n) } } }
                        td { (reports_on(&t.tally)) }
                        td { a href={ "/cases/" (t.case.case_id) } { (lang.pick("ケースを開いて判断", "Open the case to resolve")) } }
                    }
                }
            }
            @if targets.is_empty() { p.muted { (lang.pick("未解決の通報はありません", "No open reports")) } }
            p.muted { (lang.pick("判断は通報ごとに report-intake へ送られ、通報者の重みに反映されます。", "Each decision is sent to report-intake per report and trains the reporters' weights.")) }
            @let _ = policy;
        },
    )
}

struct Bar {
    x: f64,
    y: f64,
    height: f64,
    color: &'static str,
    title: String,
}

const PALETTE: [&str; 13] = [
    "#e4572e", "#17bebb", "#ffc914", "#2e282a", "#76b041", "#6a4c93", "#1982c4", "#8ac926",
    "#ff595e", "#ff924c", "#52a675", "#4267ac", "#b5a6c9",
];

/// Decisions per category per day as stacked bars, drawn on the server.
fn chart(lang: Lang, policy: &Policy, trends: &Trends) -> Markup {
    let (w, h, left, bottom) = (900.0_f64, 260.0_f64, 30.0_f64, 30.0_f64);
    let max = trends
        .days
        .iter()
        .map(|d| d.by_category.values().sum::<u32>() + d.released)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = trends.days.len().max(1) as f64;
    let bar_width = (w - left) / n;
    let scale = (h - bottom - 10.0) / max;
    // Each day's bar, stacked bottom up: the categories, then the released ones.
    let mut bars = Vec::new();
    for (i, day) in trends.days.iter().enumerate() {
        let x = left + i as f64 * bar_width;
        let mut y = h - bottom;
        let stacked = day
            .by_category
            .iter()
            .map(|(c, count)| {
                (
                    *count,
                    PALETTE[c.index() % PALETTE.len()],
                    category_name(policy, lang, *c),
                )
            })
            .chain((day.released > 0).then(|| {
                (
                    day.released,
                    "#bcccdc",
                    lang.pick("誤検知（公開）", "released").to_owned(),
                )
            }));
        for (count, color, name) in stacked {
            let height = f64::from(count) * scale;
            y -= height;
            bars.push(Bar {
                x,
                y,
                height,
                color,
                title: format!("{} {name}: {count}", day_label(day.day)),
            });
        }
    }
    html! {
        svg id="trend-chart" xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) viewBox={ "0 0 " (w) " " (h) } role="img" {
            title { (lang.pick("カテゴリ別・日別の判断件数", "Decisions per category per day")) }
            line x1=(left) y1=(h - bottom) x2=(w) y2=(h - bottom) stroke="#627d98" {}
            text x="0" y="12" font-size="11" { (max as u32) }
            @for bar in &bars {
                rect x=(bar.x + 1.0) y=(bar.y) width=(bar_width - 2.0) height=(bar.height) fill=(bar.color) {
                    title { (bar.title) }
                }
            }
            @for (i, day) in trends.days.iter().enumerate() {
                @let x = left + i as f64 * bar_width;
                @if i % 5 == 0 || i + 1 == trends.days.len() {
                    text x=(x) y=(h - 12.0) font-size="10" { (day_label(day.day)) }
                }
            }
        }
        p {
            @for c in Category::ALL {
                span.tag { span style={ "color:" (PALETTE[c.index() % PALETTE.len()]) } { "■ " } (category_name(policy, lang, c)) }
            }
            span.tag { span style="color:#bcccdc" { "■ " } (lang.pick("誤検知（公開）", "released")) }
        }
    }
}

pub fn trends(lang: Lang, member: &Member, policy: &Policy, trends: &Trends) -> Markup {
    layout(
        lang,
        lang.pick("傾向（過去30日）", "Trends (last 30 days)"),
        Some(member),
        html! {
            h2 { (lang.pick("カテゴリ別の判断", "Decisions per category")) }
            (chart(lang, policy, trends))
            h2 { (lang.pick("繰り返す違反者（30日で2回以上）", "Repeat offenders (2+ strikes in 30 days)")) }
            table id="repeat-offenders" {
                tr { th { (lang.pick("利用者", "User")) } th { (lang.pick("ストライク", "Strikes")) } th { (lang.pick("カテゴリ", "Categories")) } }
                @for r in &trends.repeat_offenders {
                    tr { td { a href={ "/accounts/" (r.author_id) } { (r.author_id) } } td { (r.strikes) }
                         td { @for c in &r.categories { span.tag { (category_name(policy, lang, *c)) } } } }
                }
            }
            h2 { (lang.pick("転載（同じ内容を複数アカウントで）", "Reposts (one text, several accounts)")) }
            table id="reposts" {
                tr { th { (lang.pick("内容ハッシュ", "Content hash")) } th { (lang.pick("アカウント", "Accounts")) } th { (lang.pick("カテゴリ", "Categories")) } }
                @for r in &trends.reposts {
                    tr { td { code { (r.content_hash.chars().take(19).collect::<String>()) "…" } }
                         td { @for a in &r.authors { a href={ "/accounts/" (a) } { (a) } " " } }
                         td { @for c in &r.categories { span.tag { (category_name(policy, lang, *c)) } } } }
                }
            }
        },
    )
}

/// Which guideline a category belongs to, read from its clause: 依頼 (clients' job
/// postings), 提案 (workers' proposals and profiles), or both (and the terms of use).
fn audiences(clause: &str) -> (bool, bool) {
    let client = clause.contains("依頼");
    let worker = clause.contains("提案");
    if !client && !worker {
        (true, true)
    } else {
        (client, worker)
    }
}

pub fn guidelines(lang: Lang, member: Option<&Member>, policy: &Policy) -> Markup {
    let section = |title_ja: &'static str,
                   title_en: &'static str,
                   id: &'static str,
                   for_clients: bool| {
        html! {
            section id=(id) {
                h2 { (title_ja) " / " (title_en) }
                @for c in Category::ALL {
                    @let p = policy.category(c);
                    @let (client, worker) = audiences(&p.clause);
                    @if (for_clients && client) || (!for_clients && worker) {
                        article {
                            h3 { (p.name_ja) " / " (p.name_en) }
                            p { strong { "ガイドライン: " } (p.clause) }
                            p { strong { "禁止事項と直し方: " } (p.message_ja) }
                            p lang="en" { strong { "Not allowed, and how to fix it: " } (p.message_en) }
                        }
                    }
                }
            }
        }
    };
    layout(
        lang,
        lang.pick("ガイドライン", "Guidelines"),
        member,
        html! {
            p.muted { (lang.pick("審査が実際に使っているポリシー ", "Rendered from the policy the screener enforces, version ")) code { (policy.version()) } }
            (section("依頼ガイドライン", "Guidelines for clients", "client-guidelines", true))
            (section("提案ガイドライン", "Guidelines for workers", "worker-guidelines", false))
        },
    )
}

pub fn sign_in(lang: Lang, members: &[crate::auth::LocalMember]) -> Markup {
    layout(
        lang,
        lang.pick("サインイン（ローカル）", "Sign in (local)"),
        None,
        html! {
            p.muted { (lang.pick("ローカルの発行者が、このテスト用メンバーのトークンに署名します。", "The local issuer signs a token for the test member you choose.")) }
            @for m in members {
                form method="post" action="/sign-in" {
                    input type="hidden" name="member" value=(m.id);
                    button id={ "sign-in-" (m.id) } { (m.id) " (" (if m.groups.is_empty() { "no group".to_owned() } else { m.groups.join(", ") }) ")" }
                }
            }
        },
    )
}
