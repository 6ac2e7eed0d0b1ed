//! The escapers, one per output context. Every stage that writes a value into HTML, XML, CSS or
//! CSV calls the one here, so a context is escaped the same way wherever it is written.
//!
//! Each keeps the exact set of characters its context used before they were gathered here, so
//! the output stays byte-identical:
//! - [`html`]: element text and attribute values in either quote style. Templates (Tera's
//!   escape function), the Markdown stage (code blocks), `{{ extra.x }}` placeholders and the
//!   preview's error page all escaped the same five characters, so one function serves text
//!   and attributes alike. Unlike Tera's default it leaves `/` alone, so URLs stay readable.
//! - [`xml`]: text and attribute values of the sitemap and the feed. It never escaped `'`
//!   (every attribute there is in double quotes) and drops what XML 1.0 cannot carry.
//! - [`css_string`]: a string literal in a `<style>` element.
//! - [`csv_field`]: one field of a CSV file (RFC 4180, with formula injection defused).

/// Escapes `& < > " '` for HTML element text and attribute values (quoted with `"` or `'`).
pub(crate) fn html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 16);
    html_into(&mut out, input);
    out
}

/// [`html`], appended to `out`.
pub(crate) fn html_into(out: &mut String, input: &str) {
    // Copies runs of safe bytes at once; this is on the hot path of every page.
    let mut start = 0;
    for (i, &b) in input.as_bytes().iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&input[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&input[start..]);
}

/// Text or attribute value for XML; characters XML 1.0 does not allow at all (control
/// characters, U+FFFE, U+FFFF) are dropped, since no escape can represent them.
pub(crate) fn xml(s: &str) -> String {
    // Most text has nothing to escape: a byte scan decides that (0xC2 starts U+0080..U+00BF,
    // C1 controls among them; 0xEF starts U+F000..U+FFFF, U+FFFE and U+FFFF among them).
    let plain = !s.bytes().any(|b| {
        matches!(b, b'&' | b'<' | b'>' | b'"' | 0x7f | 0xc2 | 0xef)
            || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    });
    if plain {
        return s.to_string();
    }
    xml_each_char(s)
}

fn xml_each_char(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a CSS string literal inside `<style>`: everything but letters, digits and
/// a few URL characters becomes a CSS escape (`\3c `), so neither a quote nor `</style>` can
/// end the string or the element, and the result needs no HTML escaping either.
pub(crate) fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric()
            || "/:.-_~?#%=,+@".contains(c)
            || (!c.is_ascii() && !c.is_control())
        {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", u32::from(c)));
        }
    }
    out
}

/// A quoted CSV field (RFC 4180). A cell a spreadsheet would read as a formula (starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return; OWASP "CSV injection") gets a leading `'`, so
/// it is shown as text; numbers such as `-5` or `-1.234,56` stay numbers.
pub(crate) fn csv_field(s: &str) -> String {
    const FORMULA: [char; 10] = [
        '=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ];
    let number = |s: &str| {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        digits.starts_with(|c: char| c.is_ascii_digit())
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    };
    let quote = if s.starts_with(FORMULA) && !number(s) {
        "'"
    } else {
        ""
    };
    format!("\"{quote}{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_five_characters_and_keeps_slashes() {
        assert_eq!(
            html("<a href=\"x\">'&'</a> https://e.org/ Über"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; https://e.org/ Über"
        );
        let mut out = String::from("<p>");
        html_into(&mut out, "a<b");
        assert_eq!(out, "<p>a&lt;b");
    }

    #[test]
    fn xml_values_cannot_break_out() {
        assert_eq!(
            xml("a<b>&\"c'\u{0}\u{1b}[31m\u{fffe}\u{ffff}\t\n"),
            "a&lt;b&gt;&amp;&quot;c'[31m\t\n"
        );
    }

    proptest::proptest! {
        #[test]
        fn xml_fast_path_agrees_with_the_escaper(s in proptest::prelude::any::<String>()) {
            proptest::prop_assert_eq!(xml(&s), xml_each_char(&s));
        }
    }

    #[test]
    fn xml_fast_path_sees_what_must_go() {
        for s in [
            "a\u{85}b",
            "\u{fffe}",
            "x\u{ffff}",
            "\u{7f}",
            "\u{1b}",
            "a&b",
            "§ °",
        ] {
            assert_eq!(xml(s), xml_each_char(s), "{s:?}");
        }
        assert_eq!(xml("a\u{85}b\u{9f}"), "ab");
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_neutralised() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
        for s in [
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "\u{ff1d}1+1",
            "-",
            "+49 30 1234",
        ] {
            assert_eq!(csv_field(s), format!("\"'{s}\""), "{s:?}");
        }
        for s in ["-5", "+5", "-1.234,56", "1.234,56", "Stadt", "", "a=b"] {
            assert_eq!(csv_field(s), format!("\"{s}\""), "{s:?}");
        }
    }

    #[test]
    fn css_strings_cannot_break_out() {
        let s = css_string("https://e.org/</style><svg/onload=alert(1)>\"'\\\n");
        assert_eq!(
            s,
            "https://e.org/\\3c /style\\3e \\3c svg/onload=alert\\28 1\\29 \\3e \\22 \\27 \\5c \\a "
        );
        assert_eq!(html(&s), s);
        assert_eq!(
            css_string("https://bü.de:8080/a-b_c/"),
            "https://bü.de:8080/a-b_c/"
        );
    }
}
