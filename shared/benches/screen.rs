//! `screen` on a 2,000-character Japanese job posting, beside two baselines measured in
//! the same run: NFKC + lower-casing of the same text (the least any screener must do)
//! and the normaliser alone. Report `screen` as a ratio to the first.
//!
//! The classifier's share: featurize + infer on the already-normalised text (the
//! screener normalises once for rules and model alike), the two apart, and loading the
//! embedded model into its runnable plans (the cold-start cost), beside parsing the policy.
//! The 2,000-character posting fills the widest plan (2,048 features); a typical message
//! of about 100 characters runs on the narrowest, so it is measured too.
//!
//!     cargo bench -p anshin-core --bench screen

use std::hint::black_box;
use std::sync::Arc;

use anshin_core::policy::Policy;
use anshin_core::screening::featurize::{featurize, FeaturizerConfig};
use anshin_core::screening::model::OnnxClassifier;
use anshin_core::screening::Submission;
use anshin_core::screening::{ScreenDocument, Screener};
use anshin_core::text::normalize;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use unicode_normalization::UnicodeNormalization;

/// A long, ordinary posting with one evasive contact detail near the end, so that the
/// rules do real work (a hit, exceptions, evidence mapping) and not only misses.
fn posting_of_2000_chars() -> String {
    let paragraphs = [
        "当社は都内で飲食店を5店舗運営している会社です。新しく立ち上げる予約サイトのデザインとコーディングをお願いできる方を募集します。",
        "トップページ、店舗一覧、店舗詳細、予約フォーム、お問い合わせの5ページを想定しています。スマートフォンでの表示を最優先に考えています。",
        "写真素材はこちらで用意しますが、アイコンやイラストはご提案いただけると助かります。ブランドカラーは深い緑と生成りです。",
        "WordPressでの構築を希望しますが、より良い方法があればご提案ください。公開後の保守についても別途ご相談させてください。",
        "納期は契約から6週間、予算は40万円から60万円を想定しています。修正は各ページ2回まで含めてご提案ください。",
        "これまでに制作したサイトのURLをいくつか提案文に添えてください。飲食や小売の実績があれば特に歓迎します。",
    ];
    let mut text = String::new();
    while text.chars().count() < 1_900 {
        for p in paragraphs {
            text.push_str(p);
            text.push('\n');
        }
    }
    text.push_str("急ぎの場合はＬ Ｉ Ｎ Ｅでご連絡ください。");
    text.chars().take(2_000).collect()
}

fn bench_screen(c: &mut Criterion) {
    let body = posting_of_2000_chars();
    assert_eq!(body.chars().count(), 2_000);
    let submission = Submission::from_json(json!({
        "submission_id": "bench-1", "kind": "job_posting", "author_id": "client-1",
        "title": "飲食店の予約サイト制作", "body": body,
    }))
    .expect("valid bench submission");
    let classifier = Arc::new(OnnxClassifier::embedded().expect("embedded model"));
    let rules_only = Screener::new(Arc::new(Policy::embedded().expect("embedded policy")));
    let screener = rules_only.clone().with_classifier(classifier.clone());
    let title = normalize(submission.title().unwrap_or_default());
    let normalised = normalize(submission.body());
    let document = ScreenDocument {
        kind: submission.kind(),
        title: Some(&title),
        body: &normalised,
    };
    let config = FeaturizerConfig::default();
    let features = classifier.features(&document);

    let mut group = c.benchmark_group("2000_char_japanese_posting");
    group.bench_function("baseline_nfkc_lowercase", |b| {
        b.iter(|| {
            black_box(
                black_box(submission.body())
                    .nfkc()
                    .flat_map(char::to_lowercase)
                    .collect::<String>(),
            )
        })
    });
    group.bench_function("normalize", |b| {
        b.iter(|| black_box(normalize(black_box(submission.body()))))
    });
    group.bench_function("screen_rules_only", |b| {
        b.iter(|| black_box(rules_only.screen(black_box(&submission))))
    });
    group.bench_function("screen", |b| {
        b.iter(|| black_box(screener.screen(black_box(&submission))))
    });
    group.bench_function("featurize", |b| {
        b.iter(|| {
            black_box(featurize(
                &config,
                document.kind,
                document.title,
                black_box(document.body),
            ))
        })
    });
    group.bench_function("infer", |b| {
        b.iter(|| black_box(classifier.predict_features(black_box(&features)).unwrap()))
    });
    group.bench_function("featurize_and_infer", |b| {
        b.iter(|| {
            let features = classifier.features(black_box(&document));
            black_box(classifier.predict_features(&features).unwrap())
        })
    });
    group.finish();

    let message = normalize(
        "はじめまして。ご依頼のロゴ制作について、ラフを3案ご用意できます。\
         納期は2週間を想定しています。ご不明な点があればメッセージでお知らせください。",
    );
    let message_document = ScreenDocument {
        kind: submission.kind(),
        title: None,
        body: &message,
    };
    let mut group = c.benchmark_group("100_char_message");
    group.bench_function("featurize_and_infer", |b| {
        b.iter(|| {
            let features = classifier.features(black_box(&message_document));
            black_box(classifier.predict_features(&features).unwrap())
        })
    });
    group.finish();
}

fn bench_cold_start(c: &mut Criterion) {
    let mut group = c.benchmark_group("cold_start");
    group.sample_size(10);
    group.bench_function("baseline_policy_load", |b| {
        b.iter(|| black_box(Policy::embedded().unwrap()))
    });
    group.bench_function("model_load_to_runnable_plans", |b| {
        b.iter(|| black_box(OnnxClassifier::embedded().unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench_screen, bench_cold_start);
criterion_main!(benches);
