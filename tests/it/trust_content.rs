//! Issue #11 (trust): content. Bad-input cases use the catalogue helpers of `bad_input`.

use std::path::Path;
use std::time::Duration;

use crate::bad_input::{broken, build_within, built_site, fails_cleanly, replace_in, temp_root};
use crate::harness::{dir_snapshot, SiteTest};

/// Builds the `bad_input` site, then builds `site` again within `limit` after `breakage`; the
/// rebuild must fail cleanly (exit 1, `public/` and everything else unchanged). Returns stderr.
fn broken_within(limit: Duration, breakage: impl FnOnce(&SiteTest)) -> String {
    let site = built_site();
    breakage(&site);
    let public = site.snapshot_dir("public");
    let before = dir_snapshot(temp_root(&site));
    let (site, run, _) = build_within(site, &[], limit);
    assert_eq!(run.code(), 1, "stderr:\n{}", run.stderr());
    assert_eq!(site.snapshot_dir("public"), public);
    assert_eq!(dir_snapshot(temp_root(&site)), before);
    site.assert_no_leftovers();
    run.stderr().to_string()
}

/// The `bad_input` site with the real default theme instead of the test theme.
fn with_default_theme() -> SiteTest {
    let site = SiteTest::new("bad_input");
    let theme = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default");
    copy_dir(&theme, &site.root().join("themes/default"));
    replace_in(
        &site,
        "config.toml",
        "theme = \"test\"",
        "theme = \"default\"",
    );
    site
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read theme") {
        let entry = entry.expect("theme entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).expect("copy theme file");
        }
    }
}

/// `stderr` with its source lines cut to 100 characters (long input makes long lines).
fn shorten(stderr: &str) -> String {
    stderr
        .lines()
        .map(|l| match l.char_indices().nth(100) {
            Some((cut, _)) if l.starts_with(|c: char| c.is_ascii_digit()) => {
                format!("{}…", &l[..cut])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `id="…"` value of an HTML page, in order.
fn ids(html: &str) -> Vec<String> {
    html.split(" id=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or("").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Long input: limits and linear time

#[test]
fn keyword_of_10000_characters_is_refused_at_once() {
    let stderr = broken_within(Duration::from_secs(30), |s| {
        let long = "Beschäftigung".repeat(770);
        s.write(
            "content/info.md",
            format!("+++\ntitle = \"Info\"\nsuchworte = [\"Arbeit\", \"{long}\"]\n+++\nText.\n"),
        );
    });
    insta::assert_snapshot!(shorten(&stderr));
}

#[test]
fn more_than_100_keywords_on_a_page() {
    let stderr = broken_within(Duration::from_secs(30), |s| {
        let list: Vec<String> = (0..100_000).map(|i| format!("\"Wort {i}\"")).collect();
        s.write(
            "content/info.md",
            format!(
                "+++\ntitle = \"Info\"\nsuchworte = [{}]\n+++\nText.\n",
                list.join(", ")
            ),
        );
    });
    insta::assert_snapshot!(shorten(&stderr));
}

#[test]
fn many_headings_with_the_same_text_take_linear_time() {
    let site = built_site();
    site.write(
        "content/info.md",
        format!(
            "+++\ntitle = \"Info\"\n+++\n{}",
            "## Abschnitt\n\n".repeat(40_000)
        ),
    );
    let (site, run, took) = build_within(site, &[], Duration::from_secs(60));
    run.success();
    let html = site.file("public/info/index.html");
    assert!(html.contains("id=\"abschnitt-39999\""), "last id missing");
    let all = ids(&html);
    let unique: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "ids are not unique");
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn deeply_nested_raw_html_is_refused_at_once() {
    // The sanitiser's HTML parser is quadratic in the depth: 100,000 levels took minutes.
    let stderr = broken_within(Duration::from_secs(30), |s| {
        s.write(
            "content/info.md",
            format!(
                "+++\ntitle = \"Info\"\n+++\nText.\n\n{}x\n",
                "<div>".repeat(100_000)
            ),
        );
    });
    insta::assert_snapshot!(shorten(&stderr));
}

// ---------------------------------------------------------------------------------------------
// 2. Control characters and invisible text

#[test]
fn control_characters_in_front_matter_strings() {
    // Escapes are the only way to get them into TOML; each is an error at the escape.
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info \\u001b[31mrot\"\ndescription = \"a\\bb\"\nsuchworte = [\"Wort\\u0000\"]\n+++\nText.\n",
        );
        s.write(
            "content/zwei.md",
            "+++\ntitle = \"Zwei\"\n[extra]\nnotiz = '''\nzwei\u{7f}'''\n+++\nText.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn control_characters_in_the_body() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\n+++\nErst\u{8}e Zeile\u{1b}[2J und \u{ffff}.\n",
        );
        s.write(
            "content/zwei.md",
            "+++\ntitle = \"Zwei\"\n+++\nEin Verweis &#27;[2J und &#x9b; hier.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn titles_of_only_invisible_characters() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"\u{200b}\u{a0}\u{feff}\"\n+++\nText.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn keywords_of_only_invisible_characters() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\nsuchworte = [\"\u{200d}\u{2060}\u{ad}\"]\n+++\nText.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn invisible_characters_around_a_title_are_trimmed() {
    let site = built_site();
    site.write(
        "content/info.md",
        "+++\ntitle = \"\u{200b}Info\u{feff}\"\n+++\nText.\n",
    );
    site.build();
    assert_eq!(site.line("public/info/index.html", "title"), "Info");
}

// ---------------------------------------------------------------------------------------------
// 3. Valid, unique ids

#[test]
fn headings_never_take_the_ids_of_the_default_theme() {
    let site = with_default_theme();
    site.write(
        "content/info.md",
        "+++\ntitle = \"Info\"\n+++\n## Inhalt\n\n## Seitenanfang {#seitenanfang}\n\n\
         ## Inhalt\n\nText[^Über uns] und[^x].\n\n[^Über uns]: Eine Fußnote.\n\n[^x]: Zwei.\n\n\
         [oben](#seitenanfang), [Fußnote](#fn-ueber-uns), [zweites](#inhalt-2)\n",
    );
    site.build();
    let html = site.file("public/info/index.html");
    let all = ids(&html);
    let unique: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "ids are not unique: {all:?}");
    assert!(
        all.iter()
            .all(|id| !id.is_empty() && !id.contains(char::is_whitespace)),
        "{all:?}"
    );
    for id in [
        "inhalt",
        "seitenanfang",
        "inhalt-1",
        "seitenanfang-1",
        "inhalt-2",
        "fn-ueber-uns",
        "fn-x",
    ] {
        assert!(all.iter().any(|x| x == id), "no id {id}: {all:?}");
    }
    // The theme's own elements keep their ids; the headings got suffixes.
    assert!(html.contains("<main id=\"inhalt\""));
    assert!(html.contains("<h2 id=\"inhalt-1\">Inhalt</h2>"), "{html}");
    assert!(html.contains("href=\"#fn-ueber-uns\""));
}

#[test]
fn raw_html_cannot_take_the_skip_link_targets() {
    let site = with_default_theme();
    site.write(
        "content/info.md",
        "+++\ntitle = \"Info\"\n+++\n<a id=\"inhalt\">hier</a> <span ID = 'seitenanfang'>da</span>\n\n\
         ## Inhalt\n\n[oben](#seitenanfang)\n",
    );
    site.build();
    let html = site.file("public/info/index.html");
    let all = ids(&html);
    let unique: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "ids are not unique: {all:?}");
    assert_eq!(
        all.iter().filter(|id| *id == "inhalt").count(),
        1,
        "{all:?}"
    );
    assert!(html.contains("<main id=\"inhalt\""));
    assert!(html.contains("<a id=\"inhalt-1\">hier</a>"), "{html}");
}

#[test]
fn footnote_defined_twice() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\n+++\nText[^x].\n\n[^x]: Erste.\n\n[^X]: Zweite.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// 4. Same-page anchors

#[test]
fn same_page_link_to_a_missing_anchor() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\n+++\n## Herausgeber\n\nSiehe [oben](#herausgeber) und [unten](#herausgebr).\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn same_page_links_to_headings_and_footnotes_after_de_duplication() {
    let site = built_site();
    site.write(
        "content/info.md",
        "+++\ntitle = \"Info\"\n+++\n## Teil\n\n## Teil\n\nText[^a].\n\n[^a]: Fußnote.\n\n\
         [zweiter Teil](#teil-1), [Fußnote](#fn-a), [Info](@/info.md#teil-1)\n",
    );
    site.build();
    let html = site.file("public/info/index.html");
    assert!(
        html.contains("<a href=\"#teil-1\">zweiter Teil</a>"),
        "{html}"
    );
    assert!(html.contains("id=\"fn-a\""), "{html}");
}

// ---------------------------------------------------------------------------------------------
// 5. Positions inside TOML strings

#[test]
fn link_errors_inside_toml_strings_point_at_the_link() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "config.toml",
            "beginn = { type = \"date\", label = \"Beginn\" }",
            "beginn = { type = \"date\", label = \"Beginn\" }\nziel = { type = \"markdown\" }\nweg = { type = \"markdown\" }\nkurz = { type = \"markdown\" }",
        );
        replace_in(
            s,
            "content/projekte/alpha.md",
            "beginn = 2001-01-06\n",
            "beginn = 2001-01-06\nziel = '''\nErste Zeile.\n  Siehe [A](@/fehlt.md).'''\n\
             weg = \"\"\"\n\\u00e4 \\\"x\\\" [B](@/auch-fehlt.md)\"\"\"\n\
             kurz = \"Ein \\\"Zitat\\\" und [C](@/nicht-da.md)\"\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// 6. Money, dates, numbers

#[test]
fn lax_amounts_and_dates_are_refused() {
    let stderr = broken(|s| {
        let cases = [
            "\"--5,00 DM\"",
            "\"-5,00 DM\"",
            "\"1..000 DM\"",
            "\"1.2.3 DM\"",
            "\"12,345,00 DM\"",
            "\"12, DM\"",
            "\"12,00 DM x\"",
            "-5",
            "0x10",
            "nan",
        ];
        for (i, amount) in cases.iter().enumerate() {
            s.write(
                &format!("content/projekte/p{i}.md"),
                format!("+++\ntitle = \"P{i}\"\ntraeger = \"T\"\nfoerderung = {amount}\n+++\n"),
            );
        }
        s.write(
            "content/projekte/datum.md",
            "+++\ntitle = \"Datum\"\ntraeger = \"T\"\nbeginn = \"2001-1-6\"\n+++\n",
        );
        s.write(
            "content/zwei.md",
            "+++\ntitle = \"Zwei\"\ndate = \"2001-01-06 und mehr\"\nupdated = \"+2001-01-06\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// 7., 8. Front matter

#[test]
fn yaml_front_matter_gets_its_toml_equivalent() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "---\ntitle: Über uns\ndate: 2001-01-06\nweight: 2\nsuchworte:\n  - EQUAL\n  - \"ESF\"\n---\nText.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn front_matter_that_never_closes_points_at_its_first_line() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\nText ohne Ende.\n",
        );
        s.write(
            "content/zwei.md",
            "+++\ntitle = \"Zwei\"\ndescription = \"\"\"\nnie geschlossen\n+++\nText.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn delimiters_inside_strings_with_spaces_and_after_a_byte_order_mark() {
    let site = built_site();
    site.write(
        "content/info.md",
        "\u{feff}+++  \ntitle = \"Info\"\ndescription = '''\n+++\n'''\n[extra]\nx = \"\"\"\n+++\n\"\"\"\n+++ \t\nText.\n",
    );
    site.build();
    assert_eq!(site.line("public/info/index.html", "title"), "Info");
    assert!(site.file("public/info/index.html").contains("<p>Text.</p>"));
    // A broken page after that still fails cleanly.
    site.write("content/info.md", "+++\ntitle = \"Info\"\n");
    let stderr = fails_cleanly(&site);
    assert!(
        stderr.contains("content/info.md:1:1: error: unclosed front matter"),
        "{stderr}"
    );
}

#[test]
fn missing_anchor_hint_names_the_page_anchors_not_the_theme_ids() {
    let site = with_default_theme();
    site.build();
    site.write(
        "content/info.md",
        "+++\ntitle = \"Info\"\n+++\n## Ziele\n\n## Wege\n\nText[^quelle].\n\n[^quelle]: Bericht.\n\n\
         [nach oben](#seitenanfang), [fehlt](#zielgruppe), [ganz falsch](#xyz)\n",
    );
    insta::assert_snapshot!(fails_cleanly(&site));
}
