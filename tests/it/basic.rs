//! Pages, sections, URLs, sort order, neighbours, pagination, drafts, bundles and typed pages.

use crate::harness::SiteTest;

const APFEL: &str = "public/obst/apfel/index.html";
const AEPFEL: &str = "public/obst/aepfel/index.html";
const ARBEIT: &str = "public/obst/arbeit/index.html";
const OBST: &str = "public/obst/index.html";

#[test]
fn builds_home_section_pages_and_static_files() {
    let site = SiteTest::new("basic");
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "built 3 pages, 2 sections, 0 keywords: 10 files in [ROOT]/public\n"
    );
    assert_eq!(
        site.files("public"),
        [
            "atom.xml",
            "index.html",
            "obst/aepfel/index.html",
            "obst/apfel/index.html",
            "obst/arbeit/index.html",
            "obst/index.html",
            "robots.txt",
            "sitemap.xml",
            "suchworte/index.html",
            "theme.css",
        ]
    );
    assert_eq!(site.line("public/index.html", "template"), "index.html");
    assert_eq!(site.line(OBST, "template"), "section.html");
    assert_eq!(site.line(APFEL, "template"), "page.html");
    assert_eq!(site.line(AEPFEL, "title"), "Äpfel");
    assert!(site
        .file(AEPFEL)
        .contains("content:\n<p>Mehrere Äpfel.</p>\n"));
    assert_eq!(site.file("public/robots.txt"), "User-agent: *\n");
    assert_eq!(site.file("public/theme.css"), "/* test theme */\n");
    site.assert_no_leftovers();
}

#[test]
fn site_static_files_override_the_theme() {
    let site = SiteTest::new("basic");
    site.write("static/theme.css", "/* site */\n");
    site.build();
    assert_eq!(site.file("public/theme.css"), "/* site */\n");
}

#[test]
fn permalinks_use_the_base_url() {
    let site = SiteTest::new("basic");
    site.build();
    assert_eq!(
        site.line(APFEL, "permalink"),
        "https://example.org/portal/obst/apfel/"
    );
    assert_eq!(site.line(APFEL, "path"), "/obst/apfel/");
    assert_eq!(
        site.line(APFEL, "current_url"),
        "https://example.org/portal/obst/apfel/"
    );
    assert_eq!(
        site.line(OBST, "permalink"),
        "https://example.org/portal/obst/"
    );
    let home = "public/index.html";
    assert_eq!(site.line(home, "permalink"), "https://example.org/portal/");
    assert_eq!(
        site.line(home, "url"),
        "https://example.org/portal/impressum/"
    );
    assert_eq!(
        site.line(home, "keywords_url"),
        "https://example.org/portal/suchworte/"
    );
    assert_eq!(
        site.line(home, "menu"),
        "[Obst](https://example.org/portal/obst/)"
    );
}

#[test]
fn base_url_flag_changes_permalinks_but_not_files() {
    let site = SiteTest::new("basic");
    site.build_with(&["--base-url", "https://x.org/sub/"]);
    assert_eq!(
        site.line(APFEL, "permalink"),
        "https://x.org/sub/obst/apfel/"
    );
    assert_eq!(
        site.line(APFEL, "breadcrumbs"),
        "[Startseite](https://x.org/sub/) | [Obst](https://x.org/sub/obst/)"
    );
    assert_eq!(
        site.line("public/index.html", "url"),
        "https://x.org/sub/impressum/"
    );
    assert!(site.exists("public/obst/apfel/index.html"));
    assert!(!site.exists("public/sub"));

    // Without a trailing slash it is added.
    site.build_with(&["--base-url", "https://x.org/sub"]);
    assert_eq!(
        site.line(APFEL, "permalink"),
        "https://x.org/sub/obst/apfel/"
    );
}

#[test]
fn sort_by_title_uses_german_collation() {
    let site = SiteTest::new("basic");
    site.build();
    // DIN 5007-1: Ä sorts as A, so "Äpfel" comes between "Apfel" and "Arbeit" (not after "Z").
    assert_eq!(site.titles(OBST, "pages"), "Apfel | Äpfel | Arbeit");
    assert_eq!(site.titles(OBST, "all_pages"), "Apfel | Äpfel | Arbeit");
}

#[test]
fn prev_and_next_follow_the_section_order() {
    let site = SiteTest::new("basic");
    site.build();
    assert_eq!(site.line(APFEL, "prev"), "-");
    assert_eq!(
        site.line(APFEL, "next"),
        "[Äpfel](https://example.org/portal/obst/aepfel/)"
    );
    assert_eq!(
        site.line(AEPFEL, "prev"),
        "[Apfel](https://example.org/portal/obst/apfel/)"
    );
    assert_eq!(
        site.line(AEPFEL, "next"),
        "[Arbeit](https://example.org/portal/obst/arbeit/)"
    );
    assert_eq!(site.titles(ARBEIT, "prev"), "Äpfel");
    assert_eq!(site.line(ARBEIT, "next"), "-");
}

#[test]
fn breadcrumbs_lead_from_home_to_the_parent() {
    let site = SiteTest::new("basic");
    site.build();
    assert_eq!(
        site.line(AEPFEL, "breadcrumbs"),
        "[Startseite](https://example.org/portal/) | [Obst](https://example.org/portal/obst/)"
    );
    assert_eq!(
        site.line(AEPFEL, "section"),
        "[Obst](https://example.org/portal/obst/)"
    );
    assert_eq!(site.titles(OBST, "breadcrumbs"), "Startseite");
    assert_eq!(site.line("public/index.html", "breadcrumbs"), "-");
}

#[test]
fn translations_and_extra_tables_reach_the_templates() {
    let site = SiteTest::new("basic");
    let config = site.file("config.toml") + "\n[extra]\nherausgeber = \"Amt\"\n";
    site.write("config.toml", config);
    site.write(
        "content/obst/apfel.md",
        "+++\ntitle = \"Apfel\"\n[extra]\nfarbe = \"rot\"\n+++\n",
    );
    site.build();
    let home = "public/index.html";
    // themes/test/i18n/de.toml, for the default language "de"
    assert_eq!(site.line(home, "t.home"), "Startseite (aus t)");
    assert_eq!(site.line(home, "site.extra"), r#"{"herausgeber":"Amt"}"#);
    assert_eq!(site.line(APFEL, "extra"), r#"{"farbe":"rot"}"#);
    assert_eq!(site.line(AEPFEL, "extra"), "null");

    // No i18n/en.toml in the theme: one error at `language` naming the file (issue #11; it
    // used to build without strings, and the default theme then failed on every string).
    let config = site.file("config.toml").replace(
        "theme = \"test\"\n",
        "theme = \"test\"\nlanguage = \"en\"\n",
    );
    site.write("config.toml", config);
    let run = site.build_fails_cleanly();
    assert!(
        run.stderr().starts_with(
            "config.toml:6:12: error: the theme has no translations for language `en`: `themes/test/i18n/en.toml` does not exist\n"
        ),
        "{}",
        run.stderr()
    );
}

#[test]
fn template_key_picks_another_template() {
    let site = SiteTest::new("basic");
    site.write(
        "templates/sonder.html",
        "template: sonder.html\ntitle: {{ page.title }}\n",
    );
    site.write(
        "content/obst/apfel.md",
        "+++\ntitle = \"Apfel\"\ntemplate = \"sonder.html\"\n+++\n",
    );
    site.build();
    assert_eq!(site.file(APFEL), "template: sonder.html\ntitle: Apfel\n");
    assert_eq!(site.line(AEPFEL, "template"), "page.html");
}

#[test]
fn rebuild_replaces_the_previous_output() {
    let site = SiteTest::new("basic");
    site.build();
    site.write("public/stale.html", "old");
    site.remove("content/obst/arbeit.md");
    site.build();
    assert!(!site.exists("public/stale.html"));
    assert!(!site.exists(ARBEIT));
    assert_eq!(site.titles(OBST, "pages"), "Apfel | Äpfel");
    site.assert_no_leftovers();
}

#[test]
fn sort_by_weight_then_title() {
    let site = SiteTest::new("sorting");
    site.build();
    assert_eq!(
        site.titles("public/gewicht/index.html", "pages"),
        "Eins | Zwei | Zwei auch | Drei"
    );
    // The menu (top-level sections) is sorted by weight too, not by title.
    assert_eq!(
        site.titles("public/index.html", "menu"),
        "Nach Gewicht | Nach Datum"
    );
    assert_eq!(
        site.titles("public/index.html", "subsections"),
        "Nach Gewicht | Nach Datum"
    );
}

#[test]
fn sort_by_date_newest_first_undated_last() {
    let site = SiteTest::new("sorting");
    site.build();
    assert_eq!(
        site.titles("public/datum/index.html", "pages"),
        "Neu | Mittel | Alt | Ohne Datum"
    );
    let mittel = "public/datum/d/index.html";
    assert_eq!(site.titles(mittel, "prev"), "Neu");
    assert_eq!(site.titles(mittel, "next"), "Alt");
    assert_eq!(site.line(mittel, "date"), "2000-06-15 (15.06.2000)");
    assert_eq!(site.line("public/datum/c/index.html", "date"), "-");
}

#[test]
fn pagination_splits_a_section_into_seite_pages() {
    let site = SiteTest::new("pagination");
    site.build();
    let p1 = "public/sec/index.html";
    let p2 = "public/sec/seite/2/index.html";
    let p3 = "public/sec/seite/3/index.html";
    assert_eq!(site.titles(p1, "pages"), "Seite 1 | Seite 2");
    assert_eq!(site.titles(p2, "pages"), "Seite 3 | Seite 4");
    assert_eq!(site.titles(p3, "pages"), "Seite 5");
    assert!(!site.exists("public/sec/seite/1"));
    assert!(!site.exists("public/sec/seite/4"));

    let first = "first=https://example.org/sec/ last=https://example.org/sec/seite/3/";
    assert_eq!(
        site.line(p1, "paginator"),
        format!("1/3 {first} prev=- next=https://example.org/sec/seite/2/")
    );
    assert_eq!(
        site.line(p2, "paginator"),
        format!("2/3 {first} prev=https://example.org/sec/ next=https://example.org/sec/seite/3/")
    );
    assert_eq!(
        site.line(p3, "paginator"),
        format!("3/3 {first} prev=https://example.org/sec/seite/2/ next=-")
    );
    assert_eq!(
        site.line(p2, "current_url"),
        "https://example.org/sec/seite/2/"
    );
    // Every slice knows all pages; prev/next of pages ignore the pagination.
    assert_eq!(
        site.titles(p3, "all_pages"),
        "Seite 1 | Seite 2 | Seite 3 | Seite 4 | Seite 5"
    );
    assert_eq!(site.titles("public/sec/p2/index.html", "next"), "Seite 3");
}

#[test]
fn drafts_are_left_out_by_default() {
    let site = SiteTest::new("drafts");
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "built 1 page, 2 sections, 1 keyword: 9 files in [ROOT]/public\n"
    );
    assert!(site.exists("public/notizen/fertig/index.html"));
    assert!(!site.exists("public/notizen/entwurf"));
    assert_eq!(site.titles("public/notizen/index.html", "pages"), "Fertig");
    // Its keywords are left out too.
    assert_eq!(site.titles("public/suchworte/index.html", "groups"), "");
    assert!(!site.exists("public/suchworte/unfertig"));
    assert_eq!(site.line("public/suchworte/notiz/index.html", "count"), "1");
}

#[test]
fn drafts_flag_includes_drafts() {
    let site = SiteTest::new("drafts");
    site.build_with(&["--drafts"]);
    let entwurf = "public/notizen/entwurf/index.html";
    assert_eq!(site.line(entwurf, "title"), "Entwurf");
    assert_eq!(site.line(entwurf, "draft"), "true");
    assert_eq!(
        site.titles("public/notizen/index.html", "pages"),
        "Entwurf | Fertig"
    );
    assert_eq!(site.line("public/suchworte/notiz/index.html", "count"), "2");
    assert!(site.exists("public/suchworte/unfertig/index.html"));
}

#[test]
fn link_to_a_draft_fails_unless_drafts_are_built() {
    let site = SiteTest::new("drafts");
    site.write(
        "content/notizen/fertig.md",
        "+++\ntitle = \"Fertig\"\n+++\nSiehe [Entwurf](entwurf.md).\n",
    );
    let run = site.run(&["build"]).failure();
    site.assert_check_agrees(&["build"], &run);
    assert_eq!(
        run.stderr(),
        "\
content/notizen/fertig.md:4:7: error: link to a missing page: `notizen/entwurf.md` does not exist in content/
  |
4 | Siehe [Entwurf](entwurf.md).
  |       ^
  = hint: that page is a draft and not part of this build (build with --drafts, or remove the link)
error: build failed with 1 error; nothing was written
"
    );
    site.build_with(&["--drafts"]);
    assert_eq!(
        site.titles("public/notizen/entwurf/index.html", "backlinks"),
        "Fertig"
    );
}

#[test]
fn draft_bundle_files_are_left_out() {
    let site = SiteTest::new("bundle");
    site.write(
        "content/projekte/foo/index.md",
        "+++\ntitle = \"Projekt Foo\"\ndraft = true\n+++\n",
    );
    site.build();
    assert!(!site.exists("public/projekte/foo/index.html"));
    assert!(!site.exists("public/projekte/foo/plan.pdf"));
    site.build_with(&["--drafts"]);
    assert!(site.exists("public/projekte/foo/plan.pdf"));
}

#[test]
fn page_bundle_files_are_copied_beside_the_page() {
    let site = SiteTest::new("bundle");
    site.build();
    assert_eq!(
        site.files("public/projekte"),
        [
            "foo/index.html",
            "foo/plan.pdf",
            "index.html",
            "uebersicht.txt",
        ]
    );
    assert_eq!(
        std::fs::read(site.root().join("public/projekte/foo/plan.pdf")).unwrap(),
        std::fs::read(site.root().join("content/projekte/foo/plan.pdf")).unwrap()
    );
    let foo = "public/projekte/foo/index.html";
    assert_eq!(site.line(foo, "path"), "/projekte/foo/");
    assert_eq!(
        site.line(foo, "assets"),
        "https://example.org/projekte/foo/plan.pdf"
    );
    assert_eq!(site.titles(foo, "section"), "Projekte");
    assert_eq!(
        site.titles("public/projekte/index.html", "pages"),
        "Projekt Foo"
    );
}

#[test]
fn section_page_type_gives_its_pages_typed_fields() {
    let site = SiteTest::new("page_type");
    site.build();
    let alpha = site.file("public/projekte/alpha/index.html");
    // `<type>.html` of the site's templates/ is used for pages of that type.
    assert!(
        alpha.starts_with("template: projekt.html (Modellprojekt)\n"),
        "{alpha}"
    );
    assert_eq!(
        site.line("public/projekte/alpha/index.html", "type"),
        "projekt"
    );
    // Fields in declaration order (not front matter order), with typed values.
    let fields = alpha
        .split_once("fields:\n")
        .and_then(|(_, rest)| rest.split_once("toc:"))
        .map(|(f, _)| f)
        .unwrap();
    assert_eq!(
        fields,
        r#"  traeger (Träger) = "Stadt Musterstadt"
  akteure (Akteure) = ["Arbeitsamt","Sozialamt"]
  foerderung (Förderung) = {"cents":111500000,"amount":"1.115.000,00","currency":"DM","display":"1.115.000,00 DM","euro_cents":57009045,"euro":"570.090,45","euro_display":"570.090,45 €"}
  status (Status) = "bewilligt"
  tranche (Tranche) = 2
  eigenanteil (Eigenanteil) = true
  stand (Stand) = {"iso":"2001-01-06","display":"06.01.2001"}
  inhalt (Inhalt) = "Beratung <em>vor Ort</em>, siehe <a href=\"https://example.org/info/\">Info</a>"
"#
    );
    assert!(alpha.contains("\nmoney_de: 1.115.000,00 DM\neuro_de: 570.090,45 €\n"));
    // Optional fields may be left out.
    let beta = site.file("public/projekte/beta/index.html");
    assert!(
        beta.contains("fields:\n  traeger (Träger) = \"Landkreis Beispiel\"\ntoc:"),
        "{beta}"
    );
    // A page outside the section has no type and no fields.
    let info = "public/info/index.html";
    assert_eq!(site.line(info, "template"), "page.html");
    assert_eq!(site.line(info, "type"), "-");
    assert!(site.file(info).contains("fields:\ntoc:"));
    // A link in a Markdown field counts as a backlink.
    assert_eq!(site.titles(info, "backlinks"), "Projekt Alpha");
}

#[test]
fn typed_field_is_unknown_outside_the_typed_section() {
    let site = SiteTest::new("page_type");
    site.write(
        "content/info.md",
        "+++\ntitle = \"Info\"\ntraeger = \"Stadt\"\n+++\n",
    );
    let run = site.run(&["build"]).failure();
    site.assert_check_agrees(&["build"], &run);
    assert_eq!(
        run.stderr(),
        "\
content/info.md:3:1: error: unknown key `traeger`
  |
3 | traeger = \"Stadt\"
  | ^
  = hint: remove it, or declare a content type with this field in config.toml and set `type`
error: build failed with 1 error; nothing was written
"
    );
}

#[test]
fn section_outputs_are_rendered_beside_the_section() {
    // Not in docs/theme-contract.md yet: `outputs` in a section's _index.md, each rendered by
    // the template of the same name, and the `csv` filter.
    let site = SiteTest::new("page_type");
    site.write(
        "content/projekte/_index.md",
        "+++\ntitle = \"Modellprojekte\"\npage_type = \"projekt\"\noutputs = [\"projekte.csv\"]\n+++\n",
    );
    site.write(
        "templates/projekte.csv",
        "\"Titel\";\"Träger\";\"Akteure\";\"Förderung\"\n\
         {% for p in section.all_pages -%}\n\
         {{ p.title | csv }};{{ p.fields.traeger | csv }};\
         {{ p.fields.akteure | default(value=\"\") | csv }};\
         {{ p.fields.foerderung.display | default(value=\"\") | csv }}\n\
         {% endfor %}",
    );
    site.build();
    assert_eq!(
        site.file("public/projekte/projekte.csv"),
        "\"Titel\";\"Träger\";\"Akteure\";\"Förderung\"
\"Projekt Alpha\";\"Stadt Musterstadt\";\"Arbeitsamt; Sozialamt\";\"1.115.000,00 DM\"
\"Projekt Beta\";\"Landkreis Beispiel\";\"\";\"\"
"
    );
    assert!(site.exists("public/projekte/index.html"));
}
