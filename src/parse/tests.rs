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
    SourceFile {
        rel: rel.into(),
        shown: PathBuf::from("content").join(rel),
        text: text.into(),
    }
}

fn errors(files: Vec<SourceFile>) -> Vec<String> {
    let (_, diags) = parse(&settings(), files);
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
    let (docs, diags) = parse(&settings(), files);
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
            "content/p/a.md:3:14: `foerderung` must be an amount in DM: not an amount (found float) [write it in German notation, e.g. foerderung = \"1.115.000,00 DM\"]",
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
