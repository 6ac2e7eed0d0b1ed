//! Checks of the characters editors write, and where a character of a TOML string value sits
//! in the file.

use toml::de::DeValue;
use toml::Spanned;

use crate::error::Diagnostic;

/// Longest keyword accepted, in characters: the longest of the portal has 53; a longer text
/// is a sentence, not a keyword (and every keyword is compared with all others).
pub(crate) const MAX_KEYWORD_CHARS: usize = 100;

/// Most keywords one page may carry (the portal has at most 10; the related-keyword counts
/// grow with the square of this number).
pub(crate) const MAX_KEYWORDS: usize = 100;

/// Characters that must never reach a page: C0 controls but tab, newline and carriage return,
/// DEL, C1 controls, and Unicode non-characters (U+FFFE, U+FFFF, U+FDD0…U+FDEF and the last two
/// of every plane). HTML calls them parse errors; a terminal runs some of them.
pub(crate) fn is_forbidden(c: char) -> bool {
    let u = u32::from(c);
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || (0xFDD0..=0xFDEF).contains(&u)
        || u & 0xFFFE == 0xFFFE
}

/// Characters that show nothing: white space and the default-ignorable ones (zero-width space
/// and joiners, soft hyphen, word joiner, BOM, bidi marks and controls, variation selectors,
/// Hangul fillers, tags). A title made only of them is blank.
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Whether `s` shows nothing legible (empty, white space, invisible characters, and combining
/// accents with no letter to sit on).
pub(crate) fn is_blank(s: &str) -> bool {
    s.chars()
        .all(|c| is_invisible(c) || unicode_normalization::char::is_combining_mark(c))
}

/// `s` without invisible characters at either end.
pub(crate) fn trim_invisible(s: &str) -> &str {
    s.trim_matches(is_invisible)
}

/// How a character is shown in a message: `U+001B`.
pub(crate) fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The first forbidden character of the file and how many there are, as an error at its place.
pub(crate) fn forbidden_in_file(shown: &std::path::Path, text: &str) -> Option<Diagnostic> {
    let mut found = text.char_indices().filter(|&(_, c)| is_forbidden(c));
    let (at, c) = found.next()?;
    let more = found.count();
    let also = match more {
        0 => String::new(),
        1 => " (and 1 more in this file)".into(),
        n => format!(" (and {n} more in this file)"),
    };
    Some(
        Diagnostic::error(shown, format!("control character {}{also}", code_point(c)))
            .at(text, at)
            .with_hint(
                "control characters are invisible, are not allowed in web pages and can come from \
                 copying text out of other programs; delete them (a text file is saved as UTF-8 \
                 without them)",
            ),
    )
}

/// Errors for forbidden characters in decoded TOML strings (escapes like `\u001b` or `\b`)
/// and keys, anywhere in the front matter. `fm_offset`: where the front matter starts in `text`.
pub(crate) fn forbidden_in_toml(
    shown: &std::path::Path,
    text: &str,
    fm_offset: usize,
    entries: &[(Spanned<String>, Spanned<DeValue<'_>>)],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (key, v) in entries {
        check_string(
            shown,
            text,
            fm_offset,
            key.get_ref(),
            key.span().start,
            &mut out,
        );
        check_value(shown, text, fm_offset, v, &mut out);
    }
    out
}

fn check_value(
    shown: &std::path::Path,
    text: &str,
    fm_offset: usize,
    v: &Spanned<DeValue<'_>>,
    out: &mut Vec<Diagnostic>,
) {
    match v.get_ref() {
        DeValue::String(s) => check_string(shown, text, fm_offset, s, v.span().start, out),
        DeValue::Array(items) => {
            for item in items.iter() {
                check_value(shown, text, fm_offset, item, out);
            }
        }
        DeValue::Table(t) => {
            for (k, item) in t.iter() {
                check_string(shown, text, fm_offset, k.get_ref(), k.span().start, out);
                check_value(shown, text, fm_offset, item, out);
            }
        }
        _ => {}
    }
}

/// One error at the first forbidden character of a decoded string whose token starts at
/// `start` (relative to the front matter).
fn check_string(
    shown: &std::path::Path,
    text: &str,
    fm_offset: usize,
    s: &str,
    start: usize,
    out: &mut Vec<Diagnostic>,
) {
    let Some((at, c)) = s.char_indices().find(|&(_, c)| is_forbidden(c)) else {
        return;
    };
    let token = fm_offset + start;
    let place = text
        .get(token..)
        .and_then(|t| string_map(t, s))
        .and_then(|map| map.get(at).copied())
        .map_or(token, |o| token + o);
    out.push(
        Diagnostic::error(
            shown,
            format!("control character {} in a string", code_point(c)),
        )
        .at(text, place)
        .with_hint(
            "remove the escape: control characters are invisible and not allowed in web \
                 pages (use \\n only in multi-line text, or write the text on several lines \
                 between ''' quotes)",
        ),
    );
}

/// For the TOML string token at the start of `token` whose decoded value is `value`: the
/// offset in `token` of each byte of `value`, plus one for its end. `None` if `token` does
/// not start with a string, or it decodes differently (then callers fall back to the start).
pub(crate) fn string_map(token: &str, value: &str) -> Option<Vec<usize>> {
    let quote = token.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let multi = token.starts_with(if quote == '"' { "\"\"\"" } else { "'''" });
    let mut i = if multi { 3 } else { 1 };
    if multi {
        // A newline right after the opening quotes is not part of the value.
        if token[i..].starts_with("\r\n") {
            i += 2;
        } else if token[i..].starts_with('\n') {
            i += 1;
        }
    }
    let mut map = Vec::with_capacity(value.len() + 1);
    let bytes = token.as_bytes();
    loop {
        let c = token[i..].chars().next()?;
        if c == quote {
            let run = bytes[i..].iter().take_while(|&&b| b == quote as u8).count();
            if !multi {
                break;
            }
            if run >= 3 {
                // Up to two quotes before the closing three belong to the value.
                map.extend((0..run - 3).map(|k| i + k));
                i += run - 3;
                break;
            }
        }
        if c == '\\' && quote == '"' {
            i = escape(token, i, multi, &mut map)?;
            continue;
        }
        map.extend((0..c.len_utf8()).map(|k| i + k));
        i += c.len_utf8();
    }
    map.push(i);
    (map.len() == value.len() + 1).then_some(map)
}

/// Maps the escape at `i` (a backslash) of a basic string; returns the offset after it.
fn escape(token: &str, i: usize, multi: bool, map: &mut Vec<usize>) -> Option<usize> {
    let next = token[i + 1..].chars().next()?;
    let (len, decoded) = match next {
        'u' => (6, hex_char(token.get(i + 2..i + 6)?)?),
        'U' => (10, hex_char(token.get(i + 2..i + 10)?)?),
        'x' => (4, hex_char(token.get(i + 2..i + 4)?)?),
        'b' | 't' | 'n' | 'f' | 'r' | 'e' | '"' | '\\' => (2, 'x'),
        c if multi && c.is_whitespace() => {
            // A line-ending backslash removes the newline and the white space after it.
            let rest = &token[i + 1..];
            let skipped = rest.len() - rest.trim_start().len();
            return Some(i + 1 + skipped);
        }
        _ => return None,
    };
    map.extend((0..decoded.len_utf8()).map(|_| i));
    Some(i + len)
}

fn hex_char(hex: &str) -> Option<char> {
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `toml_value` as the value of `v` and maps it.
    fn map_of(toml_value: &str) -> (String, Vec<usize>) {
        let doc = format!("v = {toml_value}\n");
        let table: toml::Table = toml::from_str(&doc).expect("valid TOML");
        let value = table["v"].as_str().expect("a string").to_string();
        let map = string_map(toml_value, &value).expect("maps");
        (value, map)
    }

    /// The source text each decoded character comes from.
    fn sources(toml_value: &str) -> Vec<char> {
        let (value, map) = map_of(toml_value);
        value
            .char_indices()
            .map(|(i, _)| toml_value[map[i]..].chars().next().unwrap_or(' '))
            .collect()
    }

    #[test]
    fn every_kind_of_string_maps_to_its_source() {
        assert_eq!(sources(r#""ab""#), ['a', 'b']);
        assert_eq!(sources("'ab'"), ['a', 'b']);
        assert_eq!(sources("'''\nab'''"), ['a', 'b']);
        assert_eq!(sources("\"\"\"\r\nab\"\"\""), ['a', 'b']);
        // An escape maps to its backslash; the characters after it to themselves.
        assert_eq!(sources(r#""a\"b""#), ['a', '\\', 'b']);
        assert_eq!(sources(r#""\u00e4x""#), ['\\', 'x']);
        assert_eq!(sources("\"\"\"a \\\n   b\"\"\""), ['a', ' ', 'b']);
        assert_eq!(sources("'''a''''"), ['a', '\'']);
        assert_eq!(map_of("''").1, vec![1]);
    }

    proptest::proptest! {
        // Whatever TOML writes for a string (escapes, quotes of every kind), each character
        // of the value maps to itself or to the backslash of its escape.
        #[test]
        fn every_written_string_maps_to_its_source(
            value in "[a\"'\\\\\n\t\u{1b}\u{e4}\u{1F600} ]{0,40}",
        ) {
            let written = toml::Value::String(value.clone()).to_string();
            let (decoded, map) = map_of(&written);
            proptest::prop_assert_eq!(&decoded, &value);
            for (i, c) in decoded.char_indices() {
                let source = written[map[i]..].chars().next();
                proptest::prop_assert!(source == Some(c) || source == Some('\\'), "{:?} at {}", c, i);
            }
        }
    }

    #[test]
    fn forbidden_and_invisible_characters() {
        for c in [
            '\0', '\u{1b}', '\u{8}', '\u{7f}', '\u{85}', '\u{9b}', '\u{fffe}', '\u{ffff}',
        ] {
            assert!(is_forbidden(c), "{c:?}");
        }
        for c in ['\t', '\n', '\r', 'a', 'ä', '\u{a0}', '\u{200b}'] {
            assert!(!is_forbidden(c), "{c:?}");
        }
        assert!(is_blank(
            "\u{200b}\u{a0}\u{feff}\u{2060}\u{ad}\u{200e}\u{200d} "
        ));
        assert!(!is_blank("\u{200b}a"));
        assert_eq!(trim_invisible("\u{200b} Titel\u{feff}"), "Titel");
    }
}
