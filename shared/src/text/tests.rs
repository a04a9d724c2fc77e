use super::map_check::assert_map_is_sound;
use super::*;
use unicode_normalization::UnicodeNormalization;

fn norm(s: &str) -> String {
    normalize(s).as_str().to_string()
}

/// The original text behind the first occurrence of `needle` in the normalised text:
/// what a rule matching `needle` would quote as evidence.
fn evidence<'a>(original: &'a str, needle: &str) -> &'a str {
    let n = normalize(original);
    let at = n
        .as_str()
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {:?}", n.as_str()));
    let r = n.original_range(at..at + needle.len());
    &original[r]
}

/// What ordinary text must come out as: only width and case changed.
fn width_and_case_only(s: &str) -> String {
    s.nfkc().collect::<String>().to_lowercase()
}

#[test]
fn arrows_between_letters_are_kept_as_pointers() {
    assert_eq!(norm("Discord→masa_jp8117"), "discord→masa_jp8117");
    assert_eq!(evidence("ﾗｲﾝ→ kaseguyo77", "ライン→"), "ﾗｲﾝ→");
}

#[test]
fn a_particle_after_a_spelled_number_stays_a_particle() {
    assert_eq!(
        norm("〇九〇五八〇五七一九五 に夜かけて"),
        "09058057195 に夜かけて"
    );
    assert_eq!(norm("〇九〇 ご確認ください"), "090 ご確認ください");
    // …but a particle-like digit word that starts a group still counts.
    assert_eq!(
        norm("ぜろきゅうぜろ・いちにさんよん・ごろくななはち"),
        "090-1234-5678"
    );
}

#[test]
fn full_width_email_becomes_ascii() {
    let s = "連絡先：ｗｅｂ．ｓａｔｏｕ＠ｅｘａｍｐｌｅ．ｃｏｍ まで";
    assert_eq!(norm(s), "連絡先:web.satou@example.com まで");
    assert_eq!(
        evidence(s, "satou@example.com"),
        "ｓａｔｏｕ＠ｅｘａｍｐｌｅ．ｃｏｍ"
    );
}

#[test]
fn half_width_katakana_becomes_full_width() {
    assert_eq!(norm("ﾌﾖｳ"), "フヨウ");
    assert_eq!(evidence("ｱﾌﾖｳﾋﾝ", "フヨウ"), "ﾌﾖｳ");
}

#[test]
fn half_width_voiced_marks_compose_with_their_kana() {
    assert_eq!(norm("ｶﾞ"), "ガ");
    assert_eq!(norm("ﾊﾟｽﾜｰﾄﾞ"), "パスワード");
    assert_eq!(evidence("ｶﾞ", "ガ"), "ｶﾞ");
    assert_eq!(evidence("ﾊﾟｽﾜｰﾄﾞを送って", "ワード"), "ﾜｰﾄﾞ");
}

#[test]
fn circled_and_maths_letters_become_plain() {
    assert_eq!(norm("ⓛⓘⓝⓔ"), "line");
    assert_eq!(norm("𝐋𝐈𝐍𝐄"), "line");
    assert_eq!(evidence("ID: 𝐋𝐈𝐍𝐄", "line"), "𝐋𝐈𝐍𝐄");
}

#[test]
fn zero_width_chars_inside_a_word_are_dropped() {
    let s = "LI\u{200B}NE";
    assert_eq!(norm(s), "line");
    assert_eq!(evidence(s, "line"), s);
    assert_eq!(norm("l\u{2060}i\u{FEFF}n\u{00AD}e\u{200D}"), "line");
}

#[test]
fn combining_overlays_are_dropped() {
    let s = "l\u{332}i\u{332}n\u{332}e\u{332}";
    assert_eq!(norm(s), "line");
    assert_eq!(evidence(s, "line"), s);
    assert_eq!(
        norm("0\u{FE0F}\u{20E3}9\u{FE0F}\u{20E3}0\u{FE0F}\u{20E3}"),
        "090"
    );
    // Marks that compose stay composed.
    assert_eq!(norm("Cafe\u{301}"), "cafe");
    assert_eq!(norm("ガ"), "ガ");
}

#[test]
fn whitespace_collapses_to_single_spaces_and_is_trimmed() {
    let s = "\u{3000} 納期は\t\t三日\r\n\n ほど\u{00A0} ";
    assert_eq!(norm(s), "納期は 三日 ほど");
    assert_eq!(evidence(s, "は 三"), "は\t\t三");
}

#[test]
fn control_chars_are_dropped() {
    let s = "li\u{0007}ne\u{007F}";
    assert_eq!(norm(s), "line");
    assert_eq!(evidence(s, "ine"), "i\u{0007}ne");
}

#[test]
fn cyrillic_look_alike_letters_fold_to_latin() {
    let s = "Lіneで連絡"; // і is Cyrillic U+0456
    assert_eq!(norm(s), "lineで連絡");
    assert_eq!(evidence(s, "line"), "Lіne");
    assert_eq!(norm("ТЕLЕGRАМ"), "telegram"); // capital Cyrillic Т Е Е А М
    assert_eq!(norm("ΝΕΤ"), "net"); // capital Greek: Ν looks like N, not like ν
    assert_eq!(norm("ѕkуpе"), "skype");
}

#[test]
fn accented_latin_letters_fold_to_their_base() {
    assert_eq!(norm("Lìñé"), "line");
    assert_eq!(evidence("Lìñé ID", "line"), "Lìñé");
}

#[test]
fn unicode_dashes_become_ascii_hyphens() {
    let s = "090‐1234—5678 − 1";
    assert_eq!(norm(s), "090-1234-5678 - 1");
    assert_eq!(evidence(s, "4-5"), "4—5");
    assert_eq!(norm("＠"), "@");
    assert_eq!(norm("﹫"), "@");
}

#[test]
fn long_mark_between_digits_becomes_a_hyphen() {
    let s = "電話090ー1234ー5678";
    assert_eq!(norm(s), "電話090-1234-5678");
    assert_eq!(evidence(s, "090-1234-5678"), "090ー1234ー5678");
    assert_eq!(norm("090ｰ1234ｰ5678"), "090-1234-5678");
    assert_eq!(evidence("090ｰ1234", "0-1"), "0ｰ1");
}

#[test]
fn long_mark_in_words_stays() {
    assert_eq!(norm("ラーメン"), "ラーメン");
    assert_eq!(norm("ﾗｰﾒﾝ"), "ラーメン");
    assert_eq!(norm("サーバー5台"), "サーバー5台");
}

#[test]
fn emoji_between_letters_are_dropped() {
    let s = "t⭐a⭐k⭐a";
    assert_eq!(norm(s), "taka");
    assert_eq!(evidence(s, "taka"), s);
    let s = "ｗｏｒｋ🔹ｌｕｃｋｙ🔹ｎｅｔ";
    assert_eq!(norm(s), "workluckynet");
    assert_eq!(evidence(s, "luckynet"), "ｌｕｃｋｙ🔹ｎｅｔ");
}

#[test]
fn emoji_with_spaces_around_them_are_dropped_with_the_spaces() {
    let s = "l ♥ i ♥ n ♥ e";
    assert_eq!(norm(s), "line");
    assert_eq!(norm("0 ★ 9 ★ 0"), "090");
    assert_eq!(evidence("ID ｔ ★ ａ ☆ ｋ", "tak"), "ｔ ★ ａ ☆ ｋ");
}

#[test]
fn emoji_sequences_joined_by_zwj_are_dropped_as_one_separator() {
    let s = "l👨\u{200D}👩\u{200D}👧ine";
    assert_eq!(norm(s), "line");
    assert_eq!(evidence(s, "line"), s);
}

#[test]
fn emoji_not_between_letters_stay() {
    assert_eq!(norm("★5レビュー"), "★5レビュー");
    assert_eq!(norm("🔥 sale 🔥"), "🔥 sale 🔥");
    assert_eq!(norm("完成しました！✨"), "完成しました!✨");
    assert_eq!(norm("1920×1080"), "1920×1080");
}

#[test]
fn spaced_letters_are_rejoined() {
    let s = "Ｌ Ｉ Ｎ Ｅで";
    assert_eq!(norm(s), "lineで");
    assert_eq!(evidence(s, "line"), "Ｌ Ｉ Ｎ Ｅ");
    assert_eq!(norm("マ イ ナ ン バ ー"), "マイナンバー");
    assert_eq!(
        evidence("私の マ イ ナ ン バ ー", "マイナンバー"),
        "マ イ ナ ン バ ー"
    );
}

#[test]
fn dotted_letters_are_rejoined() {
    let s = "l.i.n.e で";
    assert_eq!(norm(s), "line で");
    assert_eq!(evidence(s, "line"), "l.i.n.e");
    assert_eq!(norm("L・I・N・E"), "line");
    assert_eq!(norm("l / i / n / e"), "line");
}

#[test]
fn line_broken_letters_are_rejoined() {
    let s = "L\nI\nN\nE";
    assert_eq!(norm(s), "line");
    assert_eq!(evidence(s, "line"), s);
}

#[test]
fn spaced_handle_with_at_and_underscore_is_rejoined() {
    let s = "@ k e n j i _ 9 9";
    assert_eq!(norm(s), "@kenji_99");
    assert_eq!(evidence(s, "kenji"), "k e n j i");
}

#[test]
fn spaced_digits_are_rejoined() {
    let s = "電話 0 9 0 1 2 3 4 まで";
    assert_eq!(norm(s), "電話 0901234 まで");
    assert_eq!(evidence(s, "0901234"), "0 9 0 1 2 3 4");
}

#[test]
fn a_separator_that_differs_from_the_filler_is_kept() {
    let s = "0 9 0 - 1 2 3 4";
    assert_eq!(norm(s), "090-1234");
    assert_eq!(evidence(s, "0-1"), "0 - 1");
    let s = "t a r o @ g m a i l . c o m";
    assert_eq!(norm(s), "taro@gmail.com");
    assert_eq!(evidence(s, "gmail.com"), "g m a i l . c o m");
}

#[test]
fn multi_char_words_are_not_rejoined() {
    assert_eq!(norm("hello world"), "hello world");
    assert_eq!(norm("e.g. this"), "e.g. this");
    assert_eq!(norm("I am a designer"), "i am a designer");
    assert_eq!(norm("version 1.2 of it"), "version 1.2 of it");
}

#[test]
fn kanji_digits_become_ascii_digits() {
    let s = "電話は〇九〇・一二三四・五六七八まで";
    assert_eq!(norm(s), "電話は090-1234-5678まで");
    assert_eq!(evidence(s, "090-1234-5678"), "〇九〇・一二三四・五六七八");
    assert_eq!(evidence(s, "1234"), "一二三四");
    assert_eq!(norm("零九零"), "090");
    assert_eq!(norm("〇九〇"), "090");
}

#[test]
fn hiragana_digit_words_become_ascii_digits() {
    let s = "ぜろきゅうぜろ・いちにさんよん・ごろくななはち";
    assert_eq!(norm(s), "090-1234-5678");
    assert_eq!(evidence(s, "090"), "ぜろきゅうぜろ");
    assert_eq!(evidence(s, "9"), "きゅう");
    assert_eq!(norm("まるきゅうまる"), "090");
    // A drawn-out vowel is part of the reading, not a dash.
    assert_eq!(norm("いちにーさんよん"), "1234");
    assert_eq!(evidence("いちにーさんよん", "2"), "にー");
}

#[test]
fn katakana_digit_words_become_ascii_digits() {
    let s = "ゼロキューゼロ";
    assert_eq!(norm(s), "090");
    assert_eq!(evidence(s, "9"), "キュー");
    let s = "ゼロキュウゼロ イチニサンヨン ゴロクナナハチ";
    assert_eq!(norm(s), "09012345678");
    assert_eq!(evidence(s, "01234"), "ゼロ イチニサンヨン");
}

#[test]
fn mixed_digit_words_and_ascii_digits_become_one_number() {
    let s = "090いちにさんよん5678";
    assert_eq!(norm(s), "09012345678");
    assert_eq!(evidence(s, "0123"), "0いちにさん");
    assert_eq!(norm("〇9〇"), "090");
}

#[test]
fn ordinary_words_containing_digit_words_stay() {
    for s in [
        "田中さんに",
        "ご依頼",
        "一緒に",
        "二、三日",
        "三日",
        "一度",
        "いちご",
        "田中さんにご連絡",
        "いちいち",
        "しちごさん",
        "ろくにごはんを食べない",
        "〇〇〇-〇〇〇〇-〇〇〇〇",
        "〇〇さん",
        "次回は3月に2000円",
        "予算は1,000円、3.14",
    ] {
        assert_eq!(norm(s), width_and_case_only(s), "{s}");
    }
}

#[test]
fn bracketed_at_and_dot_words_become_symbols() {
    let s = "taro (at) example (dot) com";
    assert_eq!(norm(s), "taro@example.com");
    assert_eq!(evidence(s, "@"), "(at)");
    assert_eq!(evidence(s, "taro@example"), "taro (at) example");
    assert_eq!(norm("taro[at]example{dot}com"), "taro@example.com");
    assert_eq!(norm("taro{at}example[dot]com"), "taro@example.com");
    assert_eq!(norm("taro＜ａｔ＞example（ドット）com"), "taro@example.com");
    assert_eq!(
        norm("taro（アット）example（どっと）com"),
        "taro@example.com"
    );
    assert_eq!(norm("taro【アットマーク】example"), "taro@example");
}

#[test]
fn japanese_at_mark_words_become_at() {
    let s = "taro あっとまーく example どっと com";
    assert_eq!(norm(s), "taro@example.com");
    assert_eq!(evidence(s, "@example."), "あっとまーく example どっと");
    assert_eq!(norm("taroアットマークexampleドットcom"), "taro@example.com");
    assert_eq!(norm("taro at mark example.com"), "taro@example.com");
    assert_eq!(
        norm("taroアットマークexampleドットコム"),
        "taro@example.com"
    );
}

#[test]
fn short_japanese_at_word_between_ascii_words_becomes_at() {
    let s = "メールはtaroアットexampleドットcomまで";
    assert_eq!(norm(s), "メールはtaro@example.comまで");
    assert_eq!(evidence(s, "@"), "アット");
    assert_eq!(norm("taro あっと example"), "taro@example");
}

#[test]
fn bare_dot_between_ascii_words_becomes_a_dot() {
    let s = "template-deals dot shop";
    assert_eq!(norm(s), "template-deals.shop");
    assert_eq!(evidence(s, "."), "dot");
    assert_eq!(norm("exampleドットcom"), "example.com");
}

#[test]
fn english_at_becomes_at_only_in_a_spelled_out_address() {
    let s = "mail taro at example dot com please";
    assert_eq!(norm(s), "mail taro@example.com please");
    assert_eq!(evidence(s, "taro@example.com"), "taro at example dot com");
    assert_eq!(norm("see you at home at 5"), "see you at home at 5");
    assert_eq!(norm("available at example.com"), "available at example.com");
}

#[test]
fn ordinary_words_containing_at_and_dot_stay() {
    for s in [
        "ドット絵を描きます",
        "アットホームな職場です",
        "アット驚く",
        "dot絵",
        "the format is dotted",
        "a dot.",
        "polkaドット",
    ] {
        assert_eq!(norm(s), width_and_case_only(s), "{s}");
    }
}

#[test]
fn ordinary_japanese_text_changes_only_in_width_and_case() {
    let s = "はじめまして。ご依頼内容を拝見しました。私はＷｅｂデザイナーとして５年以上の経験があり、\
             これまでに３０件以上のサイト制作を担当してきました。納期は二、三日ほどいただければ対応可能です。\
             田中さんにご連絡いたします。一緒に良いものを作りましょう！よろしくお願いいたします。";
    assert_eq!(norm(s), width_and_case_only(s));
    assert_eq!(evidence(s, "web"), "Ｗｅｂ");
}

#[test]
fn ordinary_english_text_changes_only_in_case() {
    let s = "Hello, I am a Web designer with 5 years of experience. I can start at once, \
             e.g. this week. My rate is $30/hour (negotiable).";
    assert_eq!(norm(s), width_and_case_only(s));
}

#[test]
fn a_posting_with_several_evasions_has_each_undone_and_quoted() {
    let s = "はじめまして！連絡はＬ Ｉ Ｎ Ｅで、IDは t⭐a⭐r⭐o です。\n\
             電話は〇九〇ー一二三四ー五六七八、メールは taro (at) example (dot) com まで。";
    let n = norm(s);
    assert_eq!(
        n,
        "はじめまして!連絡はlineで、idは taro です。 \
         電話は090-1234-5678、メールは taro@example.com まで。"
    );
    assert_eq!(evidence(s, "line"), "Ｌ Ｉ Ｎ Ｅ");
    assert_eq!(evidence(s, "taro "), "t⭐a⭐r⭐o ");
    assert_eq!(evidence(s, "090-1234-5678"), "〇九〇ー一二三四ー五六七八");
    assert_eq!(
        evidence(s, "taro@example.com"),
        "taro (at) example (dot) com"
    );
}

#[test]
fn empty_and_blank_inputs_give_empty_text() {
    for s in [
        "",
        " ",
        "\n\t \u{3000}",
        "\u{200B}\u{200D}\u{FEFF}",
        " \u{200B} \u{FE0F} ",
    ] {
        let n = normalize(s);
        assert_eq!(n.as_str(), "", "{s:?}");
        assert_eq!(n.original_range(0..0), 0..0);
        assert_eq!(n.original_range(0..5), 0..0);
    }
}

#[test]
fn empty_ranges_map_to_empty_ranges_at_the_matching_place() {
    let s = "  ＡＢ　Ｃ ";
    let n = normalize(s);
    assert_eq!(n.as_str(), "ab c");
    assert_eq!(n.original_range(0..0), 2..2);
    assert_eq!(n.original_range(1..1), 5..5);
    assert_eq!(n.original_range(4..4), s.len() - 1..s.len() - 1);
    assert_eq!(n.original_range(3..4), 11..14);
}

#[test]
fn odd_inputs_do_not_panic() {
    let long_singles = "a ".repeat(10_000);
    let long_digits = "いち".repeat(10_000);
    let long_marks = format!("a{}", "\u{301}".repeat(20_000));
    let long_japanese = "ご連絡ください。".repeat(2_500);
    let long_emoji = "a⭐".repeat(10_000);
    let long_at = "x at ".repeat(4_000);
    let odd = [
        "\u{301}",
        "\u{301}\u{302}a",
        "\u{FF9E}",
        "\u{FF9E}\u{FF9F}ｶ",
        "\u{3099}",
        "\u{FFFD}",
        "a\u{FFFD}b",
        "\u{0}\u{1}\u{1F}",
        "(",
        "(at",
        "(at)",
        "at",
        " dot ",
        "ドット",
        "ー",
        "0ー",
        "ーー",
        "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
        "İ",
        "ﷺ",
        "㈱",
        "\u{10FFFF}",
        &long_singles,
        &long_digits,
        &long_marks,
        &long_japanese,
        &long_emoji,
        &long_at,
    ];
    for s in odd {
        let n = normalize(s);
        let len = n.as_str().len();
        let r = n.original_range(0..len);
        assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
        // Out-of-contract ranges are clamped, not fatal.
        let _ = n.original_range(len + 5..len + 10);
        #[allow(clippy::reversed_empty_ranges)]
        let _ = n.original_range(3..1);
    }
    assert_eq!(norm(&long_singles).len(), 10_000);
    assert_eq!(norm(&long_digits), "1".repeat(10_000));
    assert_eq!(norm("İ"), "i");
}

#[test]
fn original_ranges_are_char_boundaries_and_never_go_backwards() {
    let samples = [
        "ｗｅｂ．ｓａｔｏｕ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "ﾌﾖｳ ｶﾞ ﾊﾟｽﾜｰﾄﾞ",
        "LI\u{200B}NE",
        "Ｌ Ｉ Ｎ Ｅで連絡",
        "l.i.n.e",
        "L\nI\nN\nE",
        "0 9 0 1 2 3 4",
        "マ イ ナ ン バ ー",
        "@ k e n j i _ 9 9",
        "t⭐a⭐k⭐a",
        "ｗｏｒｋ🔹ｌｕｃｋｙ🔹ｎｅｔ",
        "〇九〇・一二三四・五六七八",
        "ぜろきゅうぜろ・いちにさんよん・ごろくななはち",
        "ゼロキューゼロ イチニサンヨン",
        "taro (at) example (dot) com",
        "taro あっとまーく example どっと com",
        "template-deals dot shop",
        "mail taro at example dot com",
        "Lіne",
        "090ー1234ー5678",
        "ドット絵 アットホーム いちご 田中さんにご連絡 ★5",
        "  先頭と末尾の空白  ",
        "㈱テスト ㍻ ﬁle",
        "İstanbul",
        "l\u{332}i\u{332}n\u{332}e\u{332}",
        "0️⃣9️⃣0️⃣",
        "👨‍👩‍👧 family",
        "a\u{301}\u{302}\u{303}b",
        "\u{301}lone mark",
        "\u{FFFD}\u{FFFD}",
        "ΝΕΤ ТЕLЕGRАМ",
        "0 9 0 - 1 2 3 4",
        "t a r o @ g m a i l . c o m",
        "exampleドットコム",
        "ｔ ★ ａ ☆ ｋ",
        "電話は〇九〇ー一二三四",
        "",
        " ",
    ];
    for s in samples {
        assert_map_is_sound(s);
    }
}

#[test]
fn random_mixtures_of_evasion_chars_keep_the_map_sound() {
    const ALPHABET: &[&str] = &[
        "a",
        "L",
        "ｌ",
        "Ｉ",
        " ",
        "　",
        "\n",
        ".",
        "・",
        "-",
        "ー",
        "ｰ",
        "⭐",
        "🔹",
        "\u{200B}",
        "\u{301}",
        "ﾞ",
        "ｶ",
        "ﾊ",
        "ﾟ",
        "0",
        "９",
        "〇",
        "九",
        "きゅう",
        "ぜろ",
        "に",
        "さん",
        "(",
        ")",
        "at",
        "dot",
        "ドット",
        "あっとまーく",
        "@",
        "_",
        "і",
        "Ν",
        "é",
        "㈱",
        "\u{FE0F}",
        "\u{20E3}",
        "、",
        "田",
        "\u{FFFD}",
        "\t",
    ];
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..400 {
        let len = (next() % 24) as usize;
        let s: String = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
            .collect();
        assert_map_is_sound(&s);
    }
}
