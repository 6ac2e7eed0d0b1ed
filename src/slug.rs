//! German-convention slugs for URLs, heading ids and keyword pages.
//!
//! Rules, in order:
//! 1. Unicode NFC normalisation (so `"a\u{308}"` and `"ä"` give the same slug).
//! 2. German transliteration: ä→ae, ö→oe, ü→ue, Ä→Ae, Ö→Oe, Ü→Ue, ß→ss,
//!    ẞ→SS, and `&` → ` und `.
//! 3. Remaining non-ASCII *letters and digits* are transliterated with
//!    [`deunicode`] (é→e, ø→o, …). Non-ASCII symbols and punctuation
//!    (§, €, „ “, –, …) are treated as separators rather than transliterated,
//!    so `"§ 18a"` becomes `"18a"` and not `"ss-18a"`.
//! 4. ASCII lowercase; every run of characters outside `[a-z0-9]` becomes a
//!    single `-`; leading and trailing `-` are trimmed.
//!
//! The result matches `^[a-z0-9]+(-[a-z0-9]+)*$` or is empty (e.g. for `"!!!"`).

use icu_normalizer::ComposingNormalizerBorrowed;

/// Unicode NFC normalisation of `s`.
pub(crate) fn nfc(s: &str) -> String {
    ComposingNormalizerBorrowed::new_nfc()
        .normalize(s)
        .into_owned()
}

/// German-convention URL slug of `s`. May be empty.
pub(crate) fn slugify(s: &str) -> String {
    let normalized = nfc(s);
    let mut out = String::with_capacity(normalized.len());
    // `true` when a separator is pending, i.e. the last thing seen after the
    // most recent `[a-z0-9]` character was something else.
    let mut pending_sep = false;

    let mut push_ascii = |out: &mut String, text: &str| {
        for b in text.bytes() {
            let c = b.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                if pending_sep && !out.is_empty() {
                    out.push('-');
                }
                pending_sep = false;
                out.push(char::from(c));
            } else {
                pending_sep = true;
            }
        }
    };

    for ch in normalized.chars() {
        let mapped: &str = match ch {
            'ä' | 'Ä' => "ae",
            'ö' | 'Ö' => "oe",
            'ü' | 'Ü' => "ue",
            'ß' | 'ẞ' => "ss",
            '&' => " und ",
            c if c.is_ascii() => {
                let mut buf = [0u8; 4];
                push_ascii(&mut out, c.encode_utf8(&mut buf));
                continue;
            }
            c if c.is_alphanumeric() => deunicode::deunicode_char(c).unwrap_or(" "),
            _ => " ",
        };
        push_ascii(&mut out, mapped);
    }
    out
}

/// The longest file or folder name most file systems allow, in bytes.
pub(crate) const MAX_SEGMENT_BYTES: usize = 255;
/// The longest output path (relative to the output folder) a site may have: well inside
/// Linux' 4096 bytes for the whole path, leaving room for where the output is copied to.
pub(crate) const MAX_PATH_BYTES: usize = 1024;

/// Why `segment` cannot be a file or folder name on every target (the `dateiablage` target
/// goes to Windows/SMB shares): a name Windows reserves for a device (`con`, `nul.txt`,
/// `COM1`, case-insensitive, with any extension), a name too long for the file system, or a
/// character Windows does not allow. `None` if it is fine.
pub(crate) fn unsafe_segment(segment: &str) -> Option<String> {
    if segment.len() > MAX_SEGMENT_BYTES {
        return Some(format!(
            "the name is {} bytes long; file systems allow at most {MAX_SEGMENT_BYTES}",
            segment.len()
        ));
    }
    let base = segment
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_lowercase();
    if is_reserved(&base) {
        return Some(format!(
            "`{segment}` is a device name on Windows (like con, nul, aux, com1, lpt1) and cannot be a file name on a file share"
        ));
    }
    if let Some(c) = segment
        .chars()
        .find(|c| c.is_control() || r#"<>:"\|?*"#.contains(*c))
    {
        return Some(format!(
            "the name contains {c:?}, which Windows does not allow in file names"
        ));
    }
    if segment.ends_with(['.', ' ']) {
        return Some("the name ends with a dot or a space, which Windows drops".into());
    }
    None
}

fn is_reserved(base: &str) -> bool {
    if matches!(base, "con" | "prn" | "aux" | "nul" | "conin$" | "conout$") {
        return true;
    }
    let digit = |rest: &str| {
        matches!(
            rest,
            "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9"
        ) || matches!(rest, "\u{b9}" | "\u{b2}" | "\u{b3}")
    };
    ["com", "lpt"]
        .iter()
        .any(|p| base.strip_prefix(p).is_some_and(digit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use icu_normalizer::DecomposingNormalizerBorrowed;
    use proptest::prelude::*;

    fn nfd(s: &str) -> String {
        DecomposingNormalizerBorrowed::new_nfd()
            .normalize(s)
            .into_owned()
    }

    fn is_valid_slug(s: &str) -> bool {
        s.is_empty()
            || (!s.starts_with('-')
                && !s.ends_with('-')
                && !s.contains("--")
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    }

    #[test]
    fn examples_from_spec() {
        let cases = [
            (
                "Beschäftigungsförderung in Kommunen",
                "beschaeftigungsfoerderung-in-kommunen",
            ),
            ("Straße & Weg", "strasse-und-weg"),
            ("Köln/Bonn/Aachen", "koeln-bonn-aachen"),
            ("  --Ä--  ", "ae"),
            ("IT- Vernetzung", "it-vernetzung"),
            ("§ 18a BSHG", "18a-bshg"),
        ];
        for (input, expected) in cases {
            assert_eq!(slugify(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn umlauts_and_sharp_s() {
        assert_eq!(slugify("ÄÖÜäöüßẞ"), "aeoeueaeoeuessss");
        assert_eq!(slugify("Übergangsgeld"), "uebergangsgeld");
        assert_eq!(slugify("GROẞE STRAẞE"), "grosse-strasse");
    }

    #[test]
    fn nfd_input_equals_nfc_input() {
        assert_eq!(slugify("a\u{308}"), slugify("ä"));
        assert_eq!(slugify("a\u{308}"), "ae");
        assert_eq!(slugify("U\u{308}bung"), "uebung");
        assert_eq!(slugify(&nfd("Köln Übung Ärger")), "koeln-uebung-aerger");
    }

    #[test]
    fn other_diacritics_via_deunicode() {
        assert_eq!(slugify("Café résumé"), "cafe-resume");
        assert_eq!(slugify("Øresund Łódź"), "oresund-lodz");
        assert_eq!(slugify("Curaçao"), "curacao");
    }

    #[test]
    fn symbols_are_separators() {
        assert_eq!(slugify("!!!"), "");
        assert_eq!(slugify(""), "");
        assert_eq!(slugify("   "), "");
        assert_eq!(slugify("§§ 1–3 „Zitat“"), "1-3-zitat");
        assert_eq!(slugify("100 € pro Monat"), "100-pro-monat");
        assert_eq!(slugify("a---b___c"), "a-b-c");
        assert_eq!(slugify("&"), "und");
        assert_eq!(slugify("A&B"), "a-und-b");
    }

    #[test]
    fn nfc_helper() {
        assert_eq!(nfc("a\u{308}"), "ä");
        assert_eq!(nfc("ä"), "ä");
        assert_eq!(nfc(""), "");
    }

    fn german_text() -> impl Strategy<Value = String> {
        let chars: Vec<char> = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\
                                äöüÄÖÜßẞéèêÉàçñ0123456789 -_/&§.,;:!?'\"()–„“"
            .chars()
            .chain(['\u{308}', '\u{301}', '\u{327}']) // stray combining marks
            .collect();
        prop::collection::vec(prop::sample::select(chars), 0..40)
            .prop_map(|v| v.into_iter().collect())
    }

    #[test]
    fn windows_device_names_and_long_names_are_unsafe() {
        for bad in [
            "con",
            "NUL",
            "nul.txt",
            "Aux.tar.gz",
            "com1",
            "LPT9.pdf",
            "com\u{b9}",
            "con .txt",
        ] {
            assert!(unsafe_segment(bad).is_some(), "{bad}");
        }
        for ok in ["console", "com10", "lpt", "nullsumme", "con-text", "a.con"] {
            assert_eq!(unsafe_segment(ok), None, "{ok}");
        }
        assert!(unsafe_segment(&"a".repeat(256)).is_some());
        assert_eq!(unsafe_segment(&"a".repeat(255)), None);
        assert!(unsafe_segment("a:b").is_some());
        assert!(unsafe_segment("ende.").is_some());
    }

    proptest! {
        #[test]
        fn prop_idempotent(s in german_text()) {
            let once = slugify(&s);
            prop_assert_eq!(slugify(&once), once);
        }

        #[test]
        fn prop_idempotent_any_unicode(s in any::<String>()) {
            let once = slugify(&s);
            prop_assert_eq!(slugify(&once), once);
        }

        #[test]
        fn prop_output_shape(s in german_text()) {
            let slug = slugify(&s);
            prop_assert!(is_valid_slug(&slug), "{:?} -> {:?}", s, slug);
        }

        #[test]
        fn prop_output_shape_any_unicode(s in any::<String>()) {
            let slug = slugify(&s);
            prop_assert!(is_valid_slug(&slug), "{:?} -> {:?}", s, slug);
        }

        #[test]
        fn prop_nfc_nfd_same_slug(s in german_text()) {
            prop_assert_eq!(slugify(&nfc(&s)), slugify(&nfd(&s)));
        }
    }
}
