use super::*;
use crate::config::{Overrides, Settings};
use std::path::{Path, PathBuf};

fn settings() -> Settings {
    crate::config::parse(
        r#"
title = "T"
base_url = "https://example.org/"
[types.projekt.fields]
antragsteller = { type = "text", required = true }
foerderung = { type = "money", currency = "DM", required = true }
status = { type = "text", options = ["bewilligt", "beantragt"] }
tranche = { type = "integer" }
stand = { type = "date" }
"#,
        Path::new("/s"),
        &Overrides::default(),
    )
    .unwrap()
}

fn src(rel: &str, text: &str) -> SourceFile {
    SourceFile::new(rel.into(), PathBuf::from("content").join(rel), text.into())
}

fn errors(files: Vec<SourceFile>) -> Vec<String> {
    let (_, diags) = parse(&settings(), &files, &mut super::Memo::default());
    diags
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{}: {} [{}]",
                d.path.display(),
                d.line,
                d.col,
                d.message,
                d.hint.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn split_handles_crlf_and_body_offset() {
    let text = "+++\r\ntitle = \"A\"\r\n+++\r\nBody";
    let (fs, fe, body) = split_front_matter(text).unwrap();
    assert_eq!(&text[fs..fe], "title = \"A\"\r\n");
    assert_eq!(&text[body..], "Body");
}

#[test]
fn unclosed_and_missing_front_matter() {
    assert!(split_front_matter("+++\ntitle = \"A\"\n")
        .unwrap_err()
        .0
        .contains("unclosed"));
    assert!(split_front_matter("# Title\n")
        .unwrap_err()
        .0
        .contains("missing front matter"));
    assert!(split_front_matter("").unwrap_err().0.contains("empty"));
}

#[test]
fn typed_page_parses_all_field_kinds() {
    let files = vec![
        src("p/_index.md", "+++\ntitle = \"P\"\npage_type = \"projekt\"\n+++\n"),
        src(
            "p/a.md",
            "+++\ntitle = \"A\"\nantragsteller = \"AA Rottweil\"\nfoerderung = \"547.763,17 DM\"\nstatus = \"bewilligt\"\ntranche = 1\nstand = 2001-01-06\nsuchworte = [\"EQUAL\"]\n+++\nText",
        ),
    ];
    let (docs, diags) = parse(&settings(), &files, &mut super::Memo::default());
    assert!(diags.is_empty(), "{diags:?}");
    let page = docs.iter().find(|d| d.src.rel == "p/a.md").unwrap();
    assert_eq!(page.fm.doc_type.as_deref(), Some("projekt"));
    assert_eq!(page.body(), "Text");
    assert_eq!(
        page.fm.fields[1],
        (
            "foerderung".to_string(),
            FieldValue::Money {
                cents: 54_776_317,
                currency: "DM".into()
            }
        )
    );
    assert_eq!(
        page.fm.fields[4].1,
        FieldValue::Date(Date {
            year: 2001,
            month: 1,
            day: 6
        })
    );
}

#[test]
fn all_errors_of_a_file_are_reported_with_positions() {
    let files =
        vec![
        src("p/_index.md", "+++\ntitle = \"P\"\npage_type = \"projekt\"\n+++\n"),
        src(
            "p/a.md",
            "+++\ntitel = \"A\"\nfoerderung = 12.5\nstatus = \"bewiligt\"\ntranche = \"1\"\n+++\n",
        ),
    ];
    let errs = errors(files);
    assert_eq!(
        errs,
        vec![
            "content/p/a.md:2:1: unknown key `titel` [did you mean `title`?]",
            "content/p/a.md:2:1: missing required key `title` [add a line title = \"…\" to the front matter]",
            "content/p/a.md:2:1: missing required field `antragsteller` of type `projekt` [add `antragsteller = …` (a string)]",
            "content/p/a.md:3:14: `foerderung` must be an amount in DM: not an amount (found float) [write it in German notation without a sign: digits with a dot every three digits, a comma and the cents, e.g. foerderung = \"12.500,00 DM\"]",
            "content/p/a.md:4:10: `status` must be one of: bewilligt, beantragt [did you mean `bewilligt`?]",
            "content/p/a.md:5:11: `tranche` must be an integer, found string [write a whole number without quotes: tranche = 1]",
        ]
    );
}

#[test]
fn invalid_toml_points_into_the_file() {
    let errs = errors(vec![src("a.md", "+++\ntitle = \"A\"\nweight = \n+++\n")]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("content/a.md:3:"), "{errs:?}");
}

#[test]
fn money_in_german_notation() {
    assert_eq!(parse_money_de("1.115.000,00 DM", "DM"), Ok(111_500_000));
    assert_eq!(parse_money_de("222.000,00", "DM"), Ok(22_200_000));
    assert_eq!(parse_money_de("5,5", "EUR"), Ok(550));
    assert!(parse_money_de("1.11.000,00", "DM").is_err());
    assert!(parse_money_de("1.115.000,00 EUR", "DM").is_err());
    assert!(parse_money_de("12,345", "DM").is_err());
}

#[test]
fn money_syntax_is_strict() {
    for bad in [
        "--5,00 DM",
        "-5,00 DM",
        "+5,00 DM",
        "−5,00 DM",
        "1..000 DM",
        ".000 DM",
        "1.000. DM",
        "1.2.3 DM",
        "12,345,00 DM",
        "12, DM",
        ",50 DM",
        "12,00 DM x",
        "1 000,00 DM",
        "NaN DM",
        "",
    ] {
        assert!(parse_money_de(bad, "DM").is_err(), "{bad:?} was accepted");
    }
    assert_eq!(parse_money_de("12.500,00\u{a0}DM", "DM"), Ok(1_250_000));
    assert_eq!(parse_money_de("0,05 DM", "DM"), Ok(5));
    assert_eq!(parse_money_de("12500", "DM"), Ok(1_250_000));
}

#[test]
fn dates_in_quotes_are_exactly_iso() {
    for bad in [
        "2001-1-6",
        "2001-01-06x",
        "+2001-01-06",
        " 2001-01-06",
        "2001-02-30",
        "2001-13-01",
        "2001-01-0٦",
    ] {
        assert_eq!(parse_iso_date(bad), None, "{bad:?} was accepted");
    }
    assert_eq!(
        parse_iso_date("2000-02-29").map(|d| d.iso()),
        Some("2000-02-29".into())
    );
}

#[test]
fn plus_lines_inside_multi_line_strings_are_text() {
    let text =
        "+++\na = \"\"\"\n+++\n\"\"\"\nb = '''\n+++'''\nc = \"\\\"\\\"\\\"\" # '''\n+++\nBody";
    let (fs, fe, body) = split_front_matter(text).unwrap();
    assert_eq!(&text[body..], "Body");
    let table: toml::Table = toml::from_str(&text[fs..fe]).expect("the front matter is whole");
    assert_eq!(table["a"].as_str(), Some("+++\n"));
}

#[test]
fn yaml_front_matter_is_explained_in_toml() {
    let (msg, hint) = split_front_matter("---\ntitle: A\n---\nText").unwrap_err();
    assert_eq!(msg, "YAML front matter (`---`) is not supported");
    assert!(
        hint.ends_with("      +++\n      title = \"A\"\n      +++"),
        "{hint}"
    );
}

#[test]
fn titles_of_invisible_characters_and_escaped_controls() {
    let errs = errors(vec![
        src("a.md", "+++\ntitle = \"\u{200b}\u{2060}\"\n+++\n"),
        src("b.md", "+++\ntitle = \"x \\u001b y\"\n+++\n"),
        src("c.md", "+++\ntitle = \"C\"\n+++\nzwei\u{0}\u{1}\n"),
    ]);
    assert_eq!(errs.len(), 3, "{errs:?}");
    for expected in [
        "content/a.md:2:9: `title` has only invisible characters (U+200B U+2060)",
        // The escape itself, not the start of the string.
        "content/b.md:2:12: control character U+001B in a string",
        "content/c.md:4:5: control character U+0000 (and 1 more in this file)",
    ] {
        assert!(
            errs.iter().any(|e| e.starts_with(expected)),
            "{expected}: {errs:?}"
        );
    }
}
