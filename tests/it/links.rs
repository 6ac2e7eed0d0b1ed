//! Internal links (`@/path.md#anchor`, relative `.md` links), heading ids, backlinks and
//! broken-link errors.

use crate::harness::SiteTest;

const ZIELE: &str = "public/ziele/index.html";
const QUELLE: &str = "public/quelle/index.html";
const TIEF: &str = "public/sub/tief/index.html";

#[test]
fn internal_links_are_rewritten_to_urls() {
    let site = SiteTest::new("links");
    site.build();
    let quelle = site.file(QUELLE);
    // @/path.md#anchor
    assert!(
        quelle
            .contains(r#"<a href="https://example.org/ziele/#uebersicht-und-ziele">die Ziele</a>"#),
        "{quelle}"
    );
    // relative, downwards
    assert!(quelle.contains(r#"<a href="https://example.org/sub/tief/">tiefer</a>"#));
    // external links stay as they are, even when they end in .md
    assert!(quelle.contains(r#"<a href="https://example.com/a.md">extern</a>"#));

    let tief = site.file(TIEF);
    // ../x.md#anchor, a section's _index.md, and the home page
    assert!(
        tief.contains(r#"<a href="https://example.org/ziele/#strasse-weg-und-steg">Zielen</a>"#),
        "{tief}"
    );
    assert!(tief.contains(r#"<a href="https://example.org/sub/">Bereich</a>"#));
    assert!(tief.contains(r#"<a href="https://example.org/">Startseite</a>"#));
}

#[test]
fn links_follow_the_base_url() {
    let site = SiteTest::new("links");
    site.build_with(&["--base-url", "https://x.org/sub/"]);
    assert!(site
        .file(QUELLE)
        .contains(r#"<a href="https://x.org/sub/ziele/#uebersicht-und-ziele">"#));
}

#[test]
fn heading_ids_are_german_slugs() {
    let site = SiteTest::new("links");
    site.build();
    let ziele = site.file(ZIELE);
    assert!(
        ziele.contains(r#"<h2 id="uebersicht-und-ziele">Übersicht &amp; Ziele</h2>"#),
        "{ziele}"
    );
    assert!(ziele.contains(r#"<h3 id="strasse-weg-und-steg">Straße, Weg &amp; Steg</h3>"#));
    // The second heading with the same text gets a unique id.
    assert!(ziele.contains(r#"<h2 id="uebersicht-und-ziele-1">Übersicht &amp; Ziele</h2>"#));
    assert_eq!(
        site.line(ZIELE, "toc"),
        "[Übersicht & Ziele#uebersicht-und-ziele [Straße, Weg & Steg#strasse-weg-und-steg]] \
         [Übersicht & Ziele#uebersicht-und-ziele-1]"
    );
}

#[test]
fn explicit_heading_ids_are_kept_and_linkable() {
    let site = SiteTest::new("links");
    site.write(
        "content/ziele.md",
        "+++\ntitle = \"Ziele\"\n+++\n## Übersicht & Ziele {#ziele}\n\n### Straße, Weg & Steg\n\n## Ziele\n",
    );
    site.write(
        "content/quelle.md",
        "+++\ntitle = \"Quelle\"\n+++\n[a](ziele.md#ziele) [b](ziele.md#ziele-1)\n",
    );
    site.build();
    let ziele = site.file(ZIELE);
    assert!(
        ziele.contains(r#"<h2 id="ziele">Übersicht &amp; Ziele</h2>"#),
        "{ziele}"
    );
    // An automatic id never takes an explicit one.
    assert!(ziele.contains(r#"<h2 id="ziele-1">Ziele</h2>"#), "{ziele}");
    assert!(site
        .file(QUELLE)
        .contains(r#"<a href="https://example.org/ziele/#ziele-1">b</a>"#));
}

#[test]
fn backlinks_are_listed_on_the_target() {
    let site = SiteTest::new("links");
    site.build();
    assert_eq!(
        site.line(ZIELE, "backlinks"),
        "[Quelle](https://example.org/quelle/) | [Tief](https://example.org/sub/tief/)"
    );
    assert_eq!(site.titles(TIEF, "backlinks"), "Quelle");
    assert_eq!(site.line(QUELLE, "backlinks"), "-");
}

#[test]
fn backlinks_are_sorted_in_german_order() {
    let site = SiteTest::new("links");
    site.write(
        "content/aepfel.md",
        "+++\ntitle = \"Äpfel\"\n+++\nZu den [Zielen](ziele.md).\n",
    );
    site.build();
    assert_eq!(site.titles(ZIELE, "backlinks"), "Äpfel | Quelle | Tief");
}

/// The links site with `content/kaputt.md` added; the first build succeeded.
fn with_broken_page(body: &str) -> SiteTest {
    let site = SiteTest::new("links");
    site.build();
    site.write(
        "content/kaputt.md",
        format!("+++\ntitle = \"Kaputt\"\n+++\nErster Absatz.\n\n{body}"),
    );
    site
}

#[test]
fn missing_page_is_an_error_at_the_link() {
    let site = with_broken_page("Siehe [fehlt](@/gibt-es-nicht.md).\n");
    let run = site.build_fails_cleanly();
    assert_eq!(
        run.stderr(),
        "\
content/kaputt.md:6:7: error: link to a missing page: `gibt-es-nicht.md` does not exist in content/
  |
6 | Siehe [fehlt](@/gibt-es-nicht.md).
  |       ^
  = hint: link to a file below content/, e.g. [Text](@/initiativen/_index.md)
error: build failed with 1 error; nothing was written
"
    );
}

#[test]
fn missing_anchor_is_an_error_listing_the_headings() {
    let site = with_broken_page("Mit »[Anker](ziele.md#zielgruppe)«.\n");
    let run = site.build_fails_cleanly();
    assert_eq!(
        run.stderr(),
        "\
content/kaputt.md:6:6: error: link to a missing anchor: `#zielgruppe` is not a heading in content/ziele.md
  |
6 | Mit »[Anker](ziele.md#zielgruppe)«.
  |      ^
  = hint: headings there: #strasse-weg-und-steg, #uebersicht-und-ziele, #uebersicht-und-ziele-1
error: build failed with 1 error; nothing was written
"
    );
}

#[test]
fn all_broken_links_are_reported_in_one_run() {
    let site = with_broken_page(
        "Siehe [fehlt](@/gibt-es-nicht.md) und\n\
         auch »[Anker](ziele.md#zielgruppe)«, [Tippfehler](@/zeile.md),\n\
         [Unter](sub/tief.md#oben) sowie [raus](../../x.md).\n",
    );
    let run = site.build_fails_cleanly();
    assert_eq!(
        run.stderr(),
        "\
content/kaputt.md:6:7: error: link to a missing page: `gibt-es-nicht.md` does not exist in content/
  |
6 | Siehe [fehlt](@/gibt-es-nicht.md) und
  |       ^
  = hint: link to a file below content/, e.g. [Text](@/initiativen/_index.md)
content/kaputt.md:7:7: error: link to a missing anchor: `#zielgruppe` is not a heading in content/ziele.md
  |
7 | auch »[Anker](ziele.md#zielgruppe)«, [Tippfehler](@/zeile.md),
  |       ^
  = hint: headings there: #strasse-weg-und-steg, #uebersicht-und-ziele, #uebersicht-und-ziele-1
content/kaputt.md:7:38: error: link to a missing page: `zeile.md` does not exist in content/
  |
7 | auch »[Anker](ziele.md#zielgruppe)«, [Tippfehler](@/zeile.md),
  |                                      ^
  = hint: did you mean `ziele.md`?
content/kaputt.md:8:1: error: link to a missing anchor: `#oben` is not a heading in content/sub/tief.md
  |
8 | [Unter](sub/tief.md#oben) sowie [raus](../../x.md).
  | ^
  = hint: that page has no headings; link to the page without #…
content/kaputt.md:8:33: error: link `../../x.md` points outside content/
  |
8 | [Unter](sub/tief.md#oben) sowie [raus](../../x.md).
  |                                 ^
  = hint: use a path below content/, e.g. @/initiativen/_index.md
error: build failed with 5 errors; nothing was written
"
    );
}

#[test]
fn broken_link_in_a_markdown_field_points_into_the_field() {
    let site = SiteTest::new("page_type");
    site.build();
    let alpha = site
        .file("content/projekte/alpha.md")
        .replace("(@/info.md)", "(@/infos.md)");
    site.write("content/projekte/alpha.md", alpha);
    let run = site.build_fails_cleanly();
    assert_eq!(
        run.stderr(),
        "\
content/projekte/alpha.md:3:37: error: link to a missing page: `infos.md` does not exist in content/
  |
3 | inhalt = \"Beratung *vor Ort*, siehe [Info](@/infos.md)\"
  |                                     ^
  = hint: did you mean `info.md`?
error: build failed with 1 error; nothing was written
"
    );
}

#[test]
fn broken_links_in_several_files_are_sorted_by_file() {
    let site = with_broken_page("[a](@/fehlt-a.md)\n");
    site.write(
        "content/sub/tief.md",
        "+++\ntitle = \"Tief\"\n+++\n[b](fehlt-b.md)\n",
    );
    let run = site.build_fails_cleanly();
    let places: Vec<&str> = run
        .stderr()
        .lines()
        .filter(|l| l.starts_with("content/"))
        .map(|l| l.split(": ").next().unwrap())
        .collect();
    assert_eq!(places, ["content/kaputt.md:6:1", "content/sub/tief.md:4:1"]);
    assert!(run
        .stderr()
        .ends_with("error: build failed with 2 errors; nothing was written\n"));
}
