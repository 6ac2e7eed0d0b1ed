//! Publishing targets (`sites/publish`, `sites/publish_relative`): target choice, base URL and
//! output folder per target, robots.txt, sitemap.xml, atom.xml, 404 and search pages, the
//! Pagefind index, intranet-only content (`intern = true`) left out of public targets
//! everywhere, the error for a public link to internal content, and relative links for file
//! shares.
//!
//! `sites/publish` has three targets: `internet` (default, into `public/`, search on),
//! `intranet` (`intern = true`, into `ausgabe/intranet/`) and `ablage` (relative links, search
//! off through the base-level `search = false`). Internal there: `themen/geheim.md` (a page) and
//! `intern/` (a section with a page and a subsection with a page).

use std::collections::BTreeSet;
use std::path::Path;

use crate::harness::SiteTest;
use crate::scan;

const INTERNET: &str = "https://www.example.org/portal/";
const INTRANET: &str = "https://intranet.example.org/portal/";
const INTRANET_OUT: &str = "ausgabe/intranet";

/// `sites/publish` built for the default target (internet, `public/`) and for the intranet.
fn both() -> SiteTest {
    let site = SiteTest::new("publish");
    site.build();
    site.build_with(&["--target", "intranet"]);
    site
}

/// The files of a build without the Pagefind folder.
fn pages_of(site: &SiteTest, out: &str) -> Vec<String> {
    site.files(out)
        .into_iter()
        .filter(|f| !f.starts_with("pagefind/"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Targets

#[test]
fn default_target_builds_into_its_output_dir_with_its_base_url() {
    let site = SiteTest::new("publish");
    let run = site.build();
    assert!(
        run.stderr()
            .starts_with("built 4 pages, 2 sections, 2 keywords: "),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().ends_with(" files in [ROOT]/public\n"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        site.line("public/index.html", "site"),
        format!("Ziele (de) {INTERNET}")
    );
    assert_eq!(
        site.line("public/themen/offen/index.html", "permalink"),
        format!("{INTERNET}themen/offen/")
    );
    assert!(!site.exists("ausgabe"), "only the default target is built");
    site.assert_no_leftovers();
}

#[test]
fn target_flag_selects_base_url_and_output_dir() {
    let site = SiteTest::new("publish");
    let run = site.build_with(&["--target", "intranet"]);
    assert!(
        run.stderr()
            .starts_with("built 7 pages, 4 sections, 4 keywords: "),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr()
            .ends_with(" files in [ROOT]/ausgabe/intranet\n"),
        "{}",
        run.stderr()
    );
    assert!(!site.exists("public"), "the default target is not built");
    assert_eq!(
        site.line(&format!("{INTRANET_OUT}/index.html"), "site"),
        format!("Ziele (de) {INTRANET}")
    );
    assert_eq!(
        site.line(
            &format!("{INTRANET_OUT}/intern/protokoll/index.html"),
            "permalink"
        ),
        format!("{INTRANET}intern/protokoll/")
    );

    // --base-url and --output-dir win over the target's; the rest of the target still applies.
    site.build_with(&[
        "--target",
        "intranet",
        "--base-url",
        "https://test.example.net/vorschau",
        "--output-dir",
        "vorschau",
    ]);
    assert_eq!(
        site.line("vorschau/index.html", "site"),
        "Ziele (de) https://test.example.net/vorschau/"
    );
    assert!(site.exists("vorschau/intern/protokoll/index.html"));
    assert_eq!(
        site.file("vorschau/robots.txt"),
        "User-agent: *\nDisallow: /\n"
    );
    assert!(!site.exists("public"));
}

#[test]
fn unknown_target_is_a_usage_error_with_a_hint() {
    let site = SiteTest::new("publish");
    for cmd in ["build", "check"] {
        let run = site.run(&[cmd, "--target", "intranett"]);
        assert_eq!(run.code(), 2, "{cmd}: {}", run.stderr());
        assert_eq!(
            run.stderr(),
            "error: unknown target `intranett` for --target\n  = hint: did you mean `intranet`?\n",
            "{cmd}"
        );
        let run = site.run(&[cmd, "--target", "xyz"]);
        assert_eq!(run.code(), 2, "{cmd}: {}", run.stderr());
        assert!(
            run.stderr()
                .contains("hint: targets are: internet, intranet, ablage"),
            "{cmd}: {}",
            run.stderr()
        );
    }
    // A config without targets.
    site.write(
        "config.toml",
        "title = \"Ziele\"\nbase_url = \"https://basis.example.org/\"\ntheme = \"test\"\n",
    );
    let run = site.run(&["build", "--target", "internet"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    site.assert_check_agrees(&["build", "--target", "internet"], &run);
    assert_eq!(
        run.stderr(),
        "error: unknown target `internet` for --target\n  = hint: config.toml declares no targets; add [targets.intranet] and [targets.internet]\n"
    );
    assert!(!site.exists("public"));
    assert!(!site.exists("ausgabe"));
    site.assert_no_leftovers();
}

#[test]
fn check_takes_a_target_too() {
    let site = SiteTest::new("publish");
    // A link that is fine in the intranet and an error in the internet.
    site.write(
        "content/impressum.md",
        "+++\ntitle = \"Impressum\"\n+++\nSiehe [Protokoll](@/intern/protokoll.md).\n",
    );
    let run = site.run(&["check", "--target", "intranet"]).success();
    assert_eq!(
        run.stderr(),
        "checked 7 pages, 4 sections, 4 keywords: no errors\n"
    );
    let run = site.run(&["check"]).failure();
    assert!(
        run.stderr().contains("link to internal content"),
        "{}",
        run.stderr()
    );
    let run = site.run(&["check", "--target", "internet"]).failure();
    assert!(run.stderr().contains("link to internal content"));
    assert!(!site.exists("public"));
    assert!(!site.exists("ausgabe"));
}

#[test]
fn target_defaults_without_default_target() {
    let site = SiteTest::new("publish");
    let config = site.file("config.toml");

    // Several targets and no default_target: an error naming them.
    site.write(
        "config.toml",
        config.replace("default_target = \"internet\"\n", ""),
    );
    let run = site.run(&["build"]).failure();
    site.assert_check_agrees(&["build"], &run);
    assert_eq!(
        run.stderr(),
        "config.toml:8:2: error: several targets (ablage, internet, intranet) and no default_target\n  |\n8 | [targets.internet]\n  |  ^\n  = hint: set default_target = \"…\" in config.toml or pass --target NAME\nerror: build failed with 1 error; nothing was written\n"
    );
    // … but --target still works.
    site.build_with(&["--target", "internet"]);
    assert!(site.exists("public/index.html"));

    // A default_target that does not exist: an error at its line, with a hint.
    site.write(
        "config.toml",
        config.replace(
            "default_target = \"internet\"",
            "default_target = \"internett\"",
        ),
    );
    let run = site.run(&["build"]).failure();
    site.assert_check_agrees(&["build"], &run);
    assert!(
        run.stderr().starts_with(
            "config.toml:7:1: error: unknown target `internett`\n  |\n7 | default_target = \"internett\"\n"
        ),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("= hint: did you mean `internet`?"),
        "{}",
        run.stderr()
    );

    // One target only: it is the default.
    let one = config
        .split("\n[targets.intranet]")
        .next()
        .unwrap()
        .replace("default_target = \"internet\"\n", "");
    let one = format!(
        "{one}\n[types.posten]\nlabel = \"Posten\"\n\n[types.posten.fields]\nbetrag = {{ type = \"money\", currency = \"DM\", required = true, label = \"Betrag\" }}\n"
    );
    site.write("config.toml", &one);
    site.remove("public");
    site.build();
    assert_eq!(
        site.line("public/index.html", "site"),
        format!("Ziele (de) {INTERNET}")
    );
    assert!(site.exists("public/pagefind/pagefind-entry.json"));

    // No targets: the base configuration, public/, robots allow, search on unless switched off.
    let none = one
        .split("\n[targets.internet]")
        .next()
        .unwrap()
        .to_string();
    let none = format!(
        "{}\n[types.posten]\nlabel = \"Posten\"\n\n[types.posten.fields]\nbetrag = {{ type = \"money\", currency = \"DM\", required = true, label = \"Betrag\" }}\n",
        none.replace("search = false\n", "")
    );
    site.write("config.toml", &none);
    site.build();
    assert_eq!(
        site.line("public/index.html", "site"),
        "Ziele (de) https://basis.example.org/"
    );
    assert!(!site.exists("public/intern"), "intern is off by default");
    assert!(!site.exists("public/themen/geheim"));
    assert!(site.exists("public/pagefind/pagefind-entry.json"));
    assert!(site.exists("public/suche/index.html"));
    assert_eq!(
        site.file("public/robots.txt"),
        "User-agent: *\nAllow: /\n\nSitemap: https://basis.example.org/sitemap.xml\n"
    );

    // A base-level search = false switches the index off for the default target too.
    site.write("config.toml", format!("search = false\n{none}"));
    site.build();
    assert!(!site.exists("public/pagefind"));
    assert!(!site.exists("public/suche"));
}

// ---------------------------------------------------------------------------------------------
// Published files

#[test]
fn robots_txt_per_target() {
    let site = both();
    assert_eq!(
        site.file("public/robots.txt"),
        format!("User-agent: *\nAllow: /\n\nSitemap: {INTERNET}sitemap.xml\n")
    );
    assert_eq!(
        site.file(&format!("{INTRANET_OUT}/robots.txt")),
        "User-agent: *\nDisallow: /\n"
    );
    // `ablage` sets no robots: allow is the default.
    site.build_with(&["--target", "ablage"]);
    assert_eq!(
        site.file("ausgabe/ablage/robots.txt"),
        "User-agent: *\nAllow: /\n\nSitemap: https://intranet.example.org/ablage/sitemap.xml\n"
    );
}

#[test]
fn sitemap_lists_every_published_page_with_absolute_urls() {
    let site = both();
    assert_eq!(
        site.file("public/sitemap.xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{INTERNET}</loc></url>
  <url><loc>{INTERNET}impressum/</loc></url>
  <url><loc>{INTERNET}themen/</loc></url>
  <url><loc>{INTERNET}themen/alt/</loc><lastmod>2023-01-15</lastmod></url>
  <url><loc>{INTERNET}themen/neu/</loc><lastmod>2024-06-10</lastmod></url>
  <url><loc>{INTERNET}themen/offen/</loc><lastmod>2024-03-01</lastmod></url>
</urlset>
"#
        )
    );
    let locs = scan::sitemap_locs(&site.file(&format!("{INTRANET_OUT}/sitemap.xml")));
    let paths: Vec<&str> = locs
        .iter()
        .map(|l| {
            l.strip_prefix(INTRANET)
                .expect("absolute URL of the target")
        })
        .collect();
    assert_eq!(
        paths,
        [
            "",
            "impressum/",
            "intern/",
            "intern/protokoll/",
            "intern/unter/",
            "intern/unter/notiz/",
            "themen/",
            "themen/alt/",
            "themen/geheim/",
            "themen/neu/",
            "themen/offen/",
        ]
    );
    // Every sitemap URL is a page of the build.
    for p in paths {
        assert!(site.exists(&format!("{INTRANET_OUT}/{p}index.html")), "{p}");
    }
}

/// (title, updated, published) of the feed's entries, in order.
fn feed_entries(xml: &str) -> Vec<(String, String, String)> {
    xml.split("<entry>")
        .skip(1)
        .map(|e| {
            let tag = |t: &str| {
                e.split(&format!("<{t}>"))
                    .nth(1)
                    .and_then(|s| s.split(&format!("</{t}>")).next())
                    .unwrap_or("-")
                    .to_string()
            };
            (tag("title"), tag("updated"), tag("published"))
        })
        .collect()
}

#[test]
fn feed_has_dated_pages_newest_change_first() {
    let site = both();
    let feed = site.file("public/atom.xml");
    assert!(feed.starts_with(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"de\">\n  <title>Ziele</title>\n  <id>{INTERNET}</id>\n  <link rel=\"self\" href=\"{INTERNET}atom.xml\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{INTERNET}\"/>\n  <updated>2024-06-10T00:00:00Z</updated>\n"
    )), "{feed}");
    let day = |d: &str| format!("{d}T00:00:00Z");
    assert_eq!(
        feed_entries(&feed),
        [
            // updated 2024-06-10 counts, not its date 2024-05-01
            ("Neue Seite".into(), day("2024-06-10"), day("2024-05-01")),
            ("Offene Seite".into(), day("2024-03-01"), day("2024-03-01")),
            ("Alte Seite".into(), day("2023-01-15"), day("2023-01-15")),
        ]
    );
    assert!(feed.contains(&format!(
        "<link href=\"{INTERNET}themen/neu/\"/>\n    <updated>"
    )));
    // The description is the summary where there is one, else the text.
    assert!(feed.contains("<summary>Für alle lesbar</summary>"));
    assert!(feed.contains("<summary>Mehr unter Offene Seite.</summary>"));
    assert!(feed.trim_end().ends_with("</feed>"));

    let feed = site.file(&format!("{INTRANET_OUT}/atom.xml"));
    assert!(feed.contains("  <updated>2025-01-01T00:00:00Z</updated>\n  <entry>"));
    let titles: Vec<String> = feed_entries(&feed).into_iter().map(|e| e.0).collect();
    assert_eq!(
        titles,
        [
            "Geheimsache Walnuss",
            "Protokoll der Sitzung",
            "Tiefe Notiz", // only `updated`: it has no <published>
            "Neue Seite",
            "Offene Seite",
            "Alte Seite"
        ]
    );
    assert_eq!(feed_entries(&feed)[2].2, "-");
}

#[test]
fn not_found_and_search_pages() {
    let site = both();
    assert_eq!(site.line("public/404.html", "template"), "404.html");
    assert_eq!(
        site.line("public/404.html", "menu"),
        format!("[Themen]({INTERNET}themen/)")
    );
    assert_eq!(
        site.line("public/suche/index.html", "search_bundle_url"),
        format!("{INTERNET}pagefind/")
    );
    assert!(site.exists("public/pagefind/pagefind.js"));
    assert!(site.exists(&format!("{INTRANET_OUT}/suche/index.html")));
    // `ablage` has no `search`: the base-level search = false applies; no search page.
    site.build_with(&["--target", "ablage"]);
    assert!(site.exists("ausgabe/ablage/404.html"));
    assert!(!site.exists("ausgabe/ablage/suche"));
    assert!(!site.exists("ausgabe/ablage/pagefind"));
}

/// The records of a Pagefind index: (page count from pagefind-entry.json, fragment URLs).
fn pagefind_records(out: &Path) -> (u64, BTreeSet<String>) {
    let entry: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("pagefind/pagefind-entry.json")).unwrap(),
    )
    .unwrap();
    let count = entry["languages"]["de"]["page_count"].as_u64().unwrap();
    let mut urls = BTreeSet::new();
    for f in scan::files(&out.join("pagefind/fragment")) {
        let json: serde_json::Value = serde_json::from_slice(&scan::pagefind_payload(&f)).unwrap();
        urls.insert(json["url"].as_str().unwrap().to_string());
    }
    (count, urls)
}

#[test]
fn search_index_has_exactly_the_published_pages() {
    let site = both();
    for (out, base) in [("public", INTERNET), (INTRANET_OUT, INTRANET)] {
        let dir = site.root().join(out);
        let (count, urls) = pagefind_records(&dir);
        let locs: BTreeSet<String> = scan::sitemap_locs(&site.file(&format!("{out}/sitemap.xml")))
            .into_iter()
            .collect();
        assert_eq!(urls, locs, "{out}: index records = sitemap URLs");
        assert_eq!(count as usize, locs.len(), "{out}");
        assert!(urls.iter().all(|u| u.starts_with(base)));
    }
}

// ---------------------------------------------------------------------------------------------
// Internal content

#[test]
fn internal_pages_and_sections_are_left_out_of_public_targets_everywhere() {
    let site = both();
    let i = |rel: &str| format!("{INTRANET_OUT}/{rel}");

    // No page.
    let public = pages_of(&site, "public");
    assert_eq!(
        public,
        [
            "404.html",
            "atom.xml",
            "impressum/index.html",
            "index.html",
            "robots.txt",
            "sitemap.xml",
            "suche/index.html",
            "suchworte/gemeinsam/index.html",
            "suchworte/index.html",
            "suchworte/oeffentlich/index.html",
            "theme.css",
            "themen/alt/index.html",
            "themen/daten.csv",
            "themen/index.html",
            "themen/neu/index.html",
            "themen/offen/index.html",
        ]
    );
    let intranet = pages_of(&site, INTRANET_OUT);
    for f in [
        "intern/index.html",
        "intern/protokoll/index.html",
        "intern/unter/index.html",
        "intern/unter/notiz/index.html",
        "themen/geheim/index.html",
        "suchworte/verschlusssache/index.html",
        "suchworte/sitzung/index.html",
    ] {
        assert!(intranet.contains(&f.to_string()), "intranet has {f}");
    }

    // No listing: menu, subsections, pages, all pages, prev/next.
    assert_eq!(site.titles("public/index.html", "menu"), "Themen");
    assert_eq!(
        site.titles(&i("index.html"), "menu"),
        "Interner Bereich | Themen"
    );
    assert_eq!(site.titles("public/index.html", "subsections"), "Themen");
    assert_eq!(
        site.titles("public/index.html", "all_pages"),
        "Impressum | Neue Seite | Offene Seite | Alte Seite"
    );
    assert_eq!(
        site.titles(&i("index.html"), "all_pages"),
        "Impressum | Protokoll der Sitzung | Tiefe Notiz | Geheimsache Walnuss | Neue Seite | Offene Seite | Alte Seite"
    );
    assert_eq!(
        site.titles("public/themen/index.html", "pages"),
        "Neue Seite | Offene Seite | Alte Seite"
    );
    assert_eq!(
        site.titles(&i("themen/index.html"), "pages"),
        "Geheimsache Walnuss | Neue Seite | Offene Seite | Alte Seite"
    );
    assert_eq!(site.titles("public/themen/neu/index.html", "prev"), "-");
    assert_eq!(
        site.titles(&i("themen/neu/index.html"), "prev"),
        "Geheimsache Walnuss"
    );

    // Backlinks: internal pages that link to a public page are not named there.
    assert_eq!(
        site.titles("public/themen/offen/index.html", "backlinks"),
        "Neue Seite | Start"
    );
    assert_eq!(
        site.titles(&i("themen/offen/index.html"), "backlinks"),
        "Geheimsache Walnuss | Neue Seite | Protokoll der Sitzung | Start"
    );

    // Keywords: pages, counts, related keywords; keywords only internal pages use disappear.
    assert_eq!(
        site.titles("public/themen/offen/index.html", "suchworte"),
        "Gemeinsam (2) | Öffentlich (2)"
    );
    assert_eq!(
        site.titles(&i("themen/offen/index.html"), "suchworte"),
        "Gemeinsam (3) | Öffentlich (2)"
    );
    assert_eq!(site.line("public/suchworte/index.html", "total"), "2");
    assert_eq!(site.line(&i("suchworte/index.html"), "total"), "4");
    assert_eq!(
        site.line("public/suchworte/index.html", "letters"),
        "......G.......O............"
    );
    assert_eq!(
        site.line("public/suchworte/gemeinsam/index.html", "count"),
        "2"
    );
    assert_eq!(
        site.titles("public/suchworte/gemeinsam/index.html", "pages"),
        "Alte Seite | Offene Seite"
    );
    assert_eq!(
        site.titles("public/suchworte/gemeinsam/index.html", "related"),
        "Öffentlich (2)"
    );
    assert_eq!(
        site.titles(&i("suchworte/gemeinsam/index.html"), "related"),
        "Öffentlich (2) | Verschlusssache (2)"
    );

    // Sums in tables and the open-data output.
    assert_eq!(site.line("public/themen/index.html", "summe"), "600,00 DM");
    assert_eq!(site.line(&i("themen/index.html"), "summe"), "4.600,00 DM");
    assert_eq!(
        site.file("public/themen/daten.csv"),
        format!(
            "\"titel\",\"betrag_dm\",\"url\"\n\"Neue Seite\",300.00,\"{INTERNET}themen/neu/\"\n\"Offene Seite\",200.00,\"{INTERNET}themen/offen/\"\n\"Alte Seite\",100.00,\"{INTERNET}themen/alt/\"\n\"Summe\",600.00,\n"
        )
    );
    assert!(site
        .file(&i("themen/daten.csv"))
        .contains("\"Summe\",4600.00,"));

    // Sitemap, feed and search index: see their own tests; here nothing internal anywhere, in
    // any file, the Pagefind index decompressed. Each secret is in the intranet build.
    let secrets = [
        "walnuss",
        "haselnuss",
        "mandelkern",
        "geheimsache",
        "vertrauliche notiz",
        "interner bereich",
        "unterbereich",
        "tiefe notiz",
        "protokoll der sitzung",
        "verschlusssache",
        "sitzung",
        "/intern/",
        "themen/geheim",
        "4.600,00",
        "4600.00",
        "4.000,00",
        "4000.00",
    ];
    let public_dir = site.root().join("public");
    let intranet_dir = site.root().join(INTRANET_OUT);
    let mut intranet_text = String::new();
    for f in scan::files(&intranet_dir) {
        intranet_text.push_str(&scan::text_of(&f).to_lowercase());
    }
    for s in secrets {
        assert!(intranet_text.contains(s), "the intranet build has {s:?}");
    }
    let mut searched = 0;
    for f in scan::files(&public_dir) {
        let text = scan::text_of(&f).to_lowercase();
        for s in secrets {
            assert!(
                !text.contains(s),
                "{} contains {s:?}",
                scan::rel(&public_dir, &f)
            );
        }
        searched += usize::from(scan::is_pagefind_data(&f));
    }
    assert!(searched > 6, "the Pagefind data files were searched too");
}

#[test]
fn a_public_link_to_internal_content_fails_the_public_build() {
    let site = SiteTest::new("publish");
    site.build();
    site.write(
        "content/impressum.md",
        "+++\ntitle = \"Impressum\"\n+++\nHerausgeber: Testamt.\n\nSiehe [das Protokoll](@/intern/protokoll.md), den\n[Bereich](intern/_index.md) und [die Sache](@/themen/geheim.md#anfang).\n",
    );
    let run = site.build_fails_cleanly();
    insta::assert_snapshot!(run.stderr());
    // The intranet may link there.
    site.write(
        "content/impressum.md",
        "+++\ntitle = \"Impressum\"\n+++\nSiehe [das Protokoll](@/intern/protokoll.md).\n",
    );
    site.build_with(&["--target", "intranet"]);
    assert_eq!(
        site.titles(
            &format!("{INTRANET_OUT}/intern/protokoll/index.html"),
            "backlinks"
        ),
        "Impressum"
    );
}

#[test]
fn a_keyword_description_marked_intern_follows_its_keyword() {
    let site = SiteTest::new("publish");
    site.write(
        "content/suchworte/verschlusssache.md",
        "+++\ntitle = \"Verschlusssache\"\nintern = true\n+++\nNur für Befugte: Pekannuss.\n",
    );
    site.build();
    site.build_with(&["--target", "intranet"]);
    assert!(site
        .file(&format!(
            "{INTRANET_OUT}/suchworte/verschlusssache/index.html"
        ))
        .contains("Pekannuss"));
    let public = scan::files(&site.root().join("public"));
    assert!(public.len() > 5, "the public build is there: {public:?}");
    for f in public {
        assert!(!scan::text_of(&f).contains("Pekannuss"), "{}", f.display());
    }
}

/// Files beside internal documents (a bundle's attachments, files in an internal section's
/// folder) are as internal as the documents.
#[test]
fn files_of_internal_bundles_and_sections_are_left_out() {
    let site = SiteTest::new("publish");
    site.write(
        "content/akte/index.md",
        "+++\ntitle = \"Akte\"\nintern = true\n+++\nDie [Anlage](anlage.pdf).\n",
    );
    site.write("content/akte/anlage.pdf", "%PDF-1.4 Akte\n");
    site.write("content/intern/bericht.pdf", "%PDF-1.4 Bericht\n");
    site.build_with(&["--target", "intranet"]);
    assert!(site.exists(&format!("{INTRANET_OUT}/akte/anlage.pdf")));
    assert!(site.exists(&format!("{INTRANET_OUT}/intern/bericht.pdf")));
    site.build();
    let leaked: Vec<String> = site
        .files("public")
        .into_iter()
        .filter(|f| f.starts_with("akte/") || f.starts_with("intern/"))
        .collect();
    assert!(leaked.is_empty(), "published: {leaked:?}");
}

// ---------------------------------------------------------------------------------------------
// Relative links for file shares

const ABLAGE: &str = "https://intranet.example.org/ablage/";

/// `a/b/../c/./d` → `a/c/d`; None if it climbs out of the root.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[test]
fn relative_target_links_every_page_relatively_to_index_files() {
    let site = SiteTest::new("publish_relative");
    site.build(); // `web`: absolute links, into public/
    site.build_with(&["--target", "dateiablage"]);
    let out = site.root().join("dateiablage");
    assert!(
        site.exists("dateiablage/themen/c/index.html"),
        "intern = true"
    );

    let mut links = 0;
    for file in scan::files(&out) {
        let rel = scan::rel(&out, &file);
        if !rel.ends_with(".html") {
            continue;
        }
        let html = std::fs::read_to_string(&file).unwrap();
        assert!(
            !html.contains("intranet.example.org"),
            "{rel}: an absolute link to the site is left"
        );
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        let values = scan::attr_values(&html, &["href", "src"]);
        // The same page of the web build, link for link.
        let web_values = scan::attr_values(&site.file(&format!("public/{rel}")), &["href", "src"]);
        assert_eq!(
            web_values.len(),
            values.len(),
            "{rel}: same links as the web build"
        );
        for (n, v) in values.iter().enumerate() {
            links += 1;
            if v.starts_with('#') || v.starts_with("https://other.example.com/") {
                continue;
            }
            assert!(
                !v.contains("://") && !v.starts_with('/') && !v.starts_with("file:"),
                "{rel}: link {v:?} is not relative"
            );
            let (path, suffix) = match v.find(['#', '?']) {
                Some(k) => (&v[..k], &v[k..]),
                None => (v.as_str(), ""),
            };
            let last = path.rsplit('/').next().unwrap();
            assert!(
                last == "index.html" || last.contains('.'),
                "{rel}: link {v:?} does not name a file"
            );
            let target = normalize(&format!("{dir}/{path}"))
                .unwrap_or_else(|| panic!("{rel}: link {v:?} leaves the output folder"));
            assert!(
                out.join(&target).is_file(),
                "{rel}: link {v:?} → {target} does not exist"
            );
            // It points where the web build's absolute link points.
            let abs = &web_values[n];
            match abs.strip_prefix(ABLAGE) {
                Some(p) => {
                    let (p, s) = match p.find(['#', '?']) {
                        Some(k) => (&p[..k], &p[k..]),
                        None => (p, ""),
                    };
                    let want = if p.is_empty() || p.ends_with('/') {
                        format!("{p}index.html")
                    } else {
                        p.to_string()
                    };
                    assert_eq!(
                        (target.as_str(), suffix),
                        (want.as_str(), s),
                        "{rel}: {abs}"
                    );
                }
                None => assert_eq!(abs, v, "{rel}: only links to the site change"),
            }
        }
    }
    assert!(links > 100, "{links} links checked");

    // Depth by depth.
    let page = site.file("dateiablage/themen/seite/2/index.html");
    assert!(page.contains(r#"<link rel="stylesheet" href="../../../theme.css">"#));
    assert!(page.contains(r#"<a href="../../../index.html">Start</a>"#));
    assert!(page.contains(r#"<a href="../../../themen/c/index.html">C</a>"#));
    assert!(page.contains(r#"<a href='../../../impressum/index.html'>Impressum</a>"#));
    let home = site.file("dateiablage/index.html");
    assert!(home.contains(r#"<a href="themen/b/index.html#abschnitt">Abschnitt</a>"#));
    assert!(
        home.contains(r#"<a href="impressum/index.html">Impressum</a>"#),
        "typed absolute link"
    );
    assert!(home.contains(r#"<a href="themen/index.html?seite=1">"#));
    assert!(home.contains(r#"<a href="https://other.example.com/ablage/">draußen</a>"#));
    let bundle = site.file("dateiablage/themen/bundle/index.html");
    assert!(bundle.contains(r#"<a href="../../themen/bundle/plan.pdf">Datei</a>"#));
    assert!(bundle.contains(r#"<a href="plan.pdf">Plan</a>"#));
    assert!(site
        .file("dateiablage/themen/a/index.html")
        .contains(r#"<a href="../../themen/b/index.html">B</a>"#));

    // Not HTML: sitemap and feed keep absolute URLs (their formats require them).
    assert!(site
        .file("dateiablage/sitemap.xml")
        .contains(&format!("<loc>{ABLAGE}themen/a/</loc>")));
    assert!(site
        .file("dateiablage/atom.xml")
        .contains(&format!("<id>{ABLAGE}</id>")));
    assert_eq!(
        site.file("dateiablage/robots.txt"),
        "User-agent: *\nDisallow: /\n"
    );
}
