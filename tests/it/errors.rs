//! User-facing errors: exact messages (snapshots in snapshots/), exit code 1, and a failed build
//! leaves the previous `public/` exactly as it was.
//!
//! Each test builds the valid `errors` site, breaks one thing and builds again.

use crate::content;
use crate::harness::SiteTest;

/// Builds the `errors` site, applies `breakage`, and returns the stderr of the failing rebuild
/// (after checking exit code 1, an untouched `public/` and no leftovers).
fn broken(breakage: impl FnOnce(&SiteTest)) -> String {
    let site = SiteTest::new("errors");
    site.build();
    breakage(&site);
    site.build_fails_cleanly().stderr().to_string()
}

fn replace_in(site: &SiteTest, rel: &str, from: &str, to: &str) {
    let text = site.file(rel);
    assert!(text.contains(from), "{rel} has no {from:?}");
    site.write(rel, text.replace(from, to));
}

#[test]
fn unknown_front_matter_key_with_did_you_mean() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\ndescripton = \"Allgemeines\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn invalid_toml_in_front_matter() {
    let stderr = broken(|s| {
        s.write("content/info.md", "+++\ntitle = \"Info\nweight = 1\n+++\n");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn unclosed_front_matter() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\n\nText ohne Ende.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_front_matter() {
    let stderr = broken(|s| {
        s.write("content/info.md", "# Info\n\nNur Text.\n");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_title() {
    let stderr = broken(|s| {
        s.write("content/info.md", "+++\nweight = 1\n+++\nText.\n");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn wrong_type_of_built_in_keys() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\nweight = \"drei\"\ndraft = \"nein\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn wrong_type_of_typed_fields() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/projekte/alpha.md",
            "144.000,00 DM",
            "144.000,00 EUR",
        );
        replace_in(
            s,
            "content/projekte/alpha.md",
            "tranche = 1",
            "tranche = \"eins\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_required_field() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/projekte/alpha.md",
            "traeger = \"Stadt Musterstadt\"\n",
            "",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_content_type_with_did_you_mean() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\ntype = \"projket\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn section_key_on_a_page() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\nsort_by = \"title\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn errors_in_several_files_are_all_reported_sorted() {
    let stderr = broken(|s| {
        s.write("content/zz.md", "+++\ntitel = \"Zett\"\n+++\n");
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\nwieght = 1\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_config_key_with_did_you_mean() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "config.toml",
            "theme = \"test\"\n",
            "theme = \"test\"\nlangauge = \"de\"\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn invalid_config_toml() {
    let stderr = broken(|s| {
        replace_in(s, "config.toml", "label = \"Projekt\"", "label = Projekt");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_field_type_in_config() {
    let stderr = broken(|s| {
        replace_in(s, "config.toml", "type = \"money\"", "type = \"mony\"");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn bad_template_syntax_names_file_and_line() {
    let stderr = broken(|s| {
        s.write(
            "templates/page.html",
            "title: {{ page.title }}\n{% if page.draft %}\nEntwurf\n{% endfi %}\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_template_with_did_you_mean() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\ntemplate = \"pgae.html\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn template_error_while_rendering() {
    let stderr = broken(|s| {
        s.write(
            "templates/page.html",
            "title: {{ page.title }}\n{{ page.gibt_es_nicht }}\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_theme() {
    let stderr = broken(|s| {
        replace_in(s, "config.toml", "theme = \"test\"", "theme = \"fehlt\"");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_themes_folder_hint_names_a_real_command() {
    let site = SiteTest::new("errors");
    site.remove("themes");
    let run = site.run(&["build"]).failure();
    site.assert_check_agrees(&["build"], &run);
    // The hint names only what exists: no command (`wegweiser init` makes a new site, it does
    // not add a theme to this one), the theme to copy and where to.
    assert!(
        run.stderr().contains(
            "\n  = hint: the site has no themes/ folder; copy a theme (e.g. themes/default from \
             the wegweiser repository) into themes/\n"
        ),
        "{}",
        run.stderr()
    );
    assert!(
        content::repo().join("themes/default/templates").is_dir(),
        "the hint's themes/default exists"
    );
}

#[test]
fn duplicate_url_from_two_files() {
    let stderr = broken(|s| {
        s.write(
            "content/info/index.md",
            "+++\ntitle = \"Info als Bündel\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn duplicate_url_from_a_slug() {
    let stderr = broken(|s| {
        s.write(
            "content/zweites-info.md",
            "+++\ntitle = \"Noch ein Info\"\nslug = \"info\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn page_on_the_keyword_url() {
    let stderr = broken(|s| {
        s.write("content/suchworte.md", "+++\ntitle = \"Suchworte\"\n+++\n");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn static_file_shadowing_a_page() {
    let stderr = broken(|s| {
        s.write("static/info/index.html", "statisch");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn slug_leaving_the_output_is_refused() {
    // `broken` also checks that nothing appeared beside the site.
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/info.md",
            "title = \"Info\"\n",
            "title = \"Info\"\nslug = \"../../x\"\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn non_utf8_file() {
    let stderr = broken(|s| {
        // "Größe" in Latin-1
        s.write("content/info.md", b"+++\ntitle = \"Gr\xf6\xdfe\"\n+++\n");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn empty_file() {
    let stderr = broken(|s| {
        s.write("content/info.md", "");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn failing_first_build_writes_nothing() {
    let site = SiteTest::new("errors");
    site.write("content/info.md", "");
    let run = site.run(&["build"]).failure();
    site.assert_check_agrees(&["build"], &run);
    assert!(!site.exists("public"));
    site.assert_no_leftovers();
}

#[test]
fn bom_and_crlf_file_builds_fine() {
    let site = SiteTest::new("errors");
    site.write(
        "content/info.md",
        "\u{feff}+++\r\ntitle = \"Info mit BOM\"\r\nsuchworte = [\"Information\"]\r\n+++\r\n\
         ## Überblick\r\n\r\nZeile eins\r\nZeile zwei\r\n",
    );
    site.build();
    let info = "public/info/index.html";
    assert_eq!(site.line(info, "title"), "Info mit BOM");
    assert_eq!(site.titles(info, "suchworte"), "Information (1)");
    assert_eq!(site.line(info, "toc"), "[Überblick#ueberblick]");
    assert!(!site.file(info).contains('\r'));
    assert!(!site.file(info).contains('\u{feff}'));
}

#[test]
fn bom_and_crlf_file_errors_have_the_right_place() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "\u{feff}+++\r\ntitle = \"Info\"\r\ndescripton = \"x\"\r\n+++\r\nText.\r\n",
        );
    });
    assert_eq!(
        stderr,
        "\
content/info.md:3:1: error: unknown key `descripton`
  |
3 | descripton = \"x\"
  | ^
  = hint: did you mean `description`?
error: build failed with 1 error; nothing was written
"
    );
}
