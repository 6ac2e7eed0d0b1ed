//! Suchworte: the keyword index, one page per keyword, slugs, merging, synonyms, the controlled
//! vocabulary, "siehe auch", description pages and related keywords.

use crate::harness::SiteTest;

const INDEX: &str = "public/suchworte/index.html";

fn keyword(slug: &str) -> String {
    format!("public/suchworte/{slug}/index.html")
}

#[test]
fn index_groups_keywords_by_letter_in_german_order() {
    let site = SiteTest::new("keywords");
    let run = site.build();
    // No warnings for a clean site.
    assert_eq!(
        run.stderr(),
        "built 4 pages, 2 sections, 8 keywords: 19 files in [ROOT]/public\n"
    );
    assert_eq!(site.line(INDEX, "total"), "8");
    assert_eq!(site.line(INDEX, "letters"), "AB............O...S......Z#");
    let groups = site.file(INDEX);
    let groups = groups
        .split_once("groups:\n")
        .and_then(|(_, g)| g.split_once("content:"))
        .map(|(g, _)| crate::harness::titles(g))
        .unwrap();
    // Ä under A (before "Arbeit…": DIN 5007-1), Ö under O, digits and symbols under # at the end.
    assert_eq!(
        groups,
        "  A (#buchstabe-a): Ämter (2) | Arbeitslosenhilfe (2)
  B (#buchstabe-b): Beschäftigung (1)
  O (#buchstabe-o): Öffentlicher Dienst (1)
  S (#buchstabe-s): Sozialhilfe (3) | Straße (1)
  Z (#buchstabe-z): Zusammenarbeit & Vernetzung (1)
  # (#zeichen): § 18 BSHG (1)
"
    );
}

#[test]
fn keyword_slugs_follow_german_rules() {
    let site = SiteTest::new("keywords");
    site.build();
    assert_eq!(
        site.files("public/suchworte"),
        [
            "18-bshg/index.html",
            "aemter/index.html",
            "arbeitslosenhilfe/index.html",
            "beschaeftigung/index.html",
            "index.html",
            "oeffentlicher-dienst/index.html",
            "sozialhilfe/index.html",
            "strasse/index.html",
            "zusammenarbeit-und-vernetzung/index.html",
        ]
    );
    let page = keyword("zusammenarbeit-und-vernetzung");
    assert_eq!(site.line(&page, "name"), "Zusammenarbeit & Vernetzung");
    assert_eq!(
        site.line(&page, "permalink"),
        "https://example.org/suchworte/zusammenarbeit-und-vernetzung/"
    );
    assert_eq!(site.line(&keyword("strasse"), "name"), "Straße");
}

#[test]
fn keyword_page_lists_its_pages_by_title_in_german_order() {
    let site = SiteTest::new("keywords");
    site.build();
    let sozialhilfe = keyword("sozialhilfe");
    assert_eq!(site.line(&sozialhilfe, "count"), "3");
    assert_eq!(
        site.titles(&sozialhilfe, "pages"),
        "Arbeitsmarkt im Wandel | Ärger mit Ämtern | Beratung"
    );
    assert_eq!(
        site.line(&sozialhilfe, "breadcrumbs"),
        "[Start](https://example.org/) | [Suchwortverzeichnis](https://example.org/suchworte/)"
    );
}

#[test]
fn pages_list_their_keywords_in_german_order() {
    let site = SiteTest::new("keywords");
    site.build();
    assert_eq!(
        site.titles("public/themen/aerger/index.html", "suchworte"),
        "Ämter (2) | Öffentlicher Dienst (1) | Sozialhilfe (3) | Straße (1)"
    );
    assert_eq!(
        site.line("public/themen/recht/index.html", "suchworte"),
        "[§ 18 BSHG](https://example.org/suchworte/18-bshg/) (1) | \
         [Beschäftigung](https://example.org/suchworte/beschaeftigung/) (1)"
    );
}

#[test]
fn synonyms_map_to_the_preferred_keyword() {
    let site = SiteTest::new("keywords");
    site.build();
    // beratung.md says "Alhi"; config maps it to "Arbeitslosenhilfe".
    assert!(!site.exists("public/suchworte/alhi"));
    assert_eq!(
        site.titles(&keyword("arbeitslosenhilfe"), "pages"),
        "Arbeitsmarkt im Wandel | Beratung"
    );
    assert_eq!(
        site.titles("public/themen/beratung/index.html", "suchworte"),
        "Arbeitslosenhilfe (2) | Sozialhilfe (3) | Zusammenarbeit & Vernetzung (1)"
    );
}

#[test]
fn see_also_comes_from_the_config() {
    let site = SiteTest::new("keywords");
    site.build();
    assert_eq!(
        site.titles(&keyword("arbeitslosenhilfe"), "see_also"),
        "Sozialhilfe (3) | Ämter (2)"
    );
    assert_eq!(site.line(&keyword("sozialhilfe"), "see_also"), "-");
}

#[test]
fn see_also_naming_an_unused_keyword_is_a_warning() {
    let site = SiteTest::new("keywords");
    let config = site.file("config.toml").replace(
        "[\"Sozialhilfe\", \"Ämter\"]",
        "[\"Sozialhilfe\", \"Wohngeld\"]",
    );
    site.write("config.toml", config);
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "\
config.toml:10:39: warning: [keywords.see_also] names `Wohngeld`, which no page carries; the reference is left out
   |
10 | \"Arbeitslosenhilfe\" = [\"Sozialhilfe\", \"Wohngeld\"]
   |                                       ^
  = hint: only keywords that pages carry can be referenced
built 4 pages, 2 sections, 8 keywords: 19 files in [ROOT]/public
"
    );
    assert_eq!(
        site.titles(&keyword("arbeitslosenhilfe"), "see_also"),
        "Sozialhilfe (3)"
    );
}

#[test]
fn related_keywords_by_shared_pages() {
    let site = SiteTest::new("keywords");
    site.build();
    // Most shared pages first (Sozialhilfe: 2), then index order.
    assert_eq!(
        site.titles(&keyword("aemter"), "related"),
        "Sozialhilfe (3) | Arbeitslosenhilfe (2) | Öffentlicher Dienst (1) | Straße (1)"
    );
    assert_eq!(
        site.titles(&keyword("18-bshg"), "related"),
        "Beschäftigung (1)"
    );
}

#[test]
fn description_pages_show_up() {
    let site = SiteTest::new("keywords");
    site.build();
    // content/suchworte/sozialhilfe.md, with its link resolved
    assert!(site.file(&keyword("sozialhilfe")).contains(
        "content:\n<p>Hilfe zum Lebensunterhalt, siehe \
         <a href=\"https://example.org/themen/beratung/\">Beratung</a>.</p>\n"
    ));
    assert!(site.file(&keyword("aemter")).ends_with("content:\n\n"));
    // content/suchworte/_index.md gives the index its title and text.
    assert_eq!(site.line(INDEX, "title"), "Suchwortverzeichnis");
    assert!(site
        .file(INDEX)
        .contains("content:\n<p>Alle Suchworte von A bis Z.</p>\n"));
    // They are not pages of their own.
    assert!(!site.exists("public/suchworte/sozialhilfe/sozialhilfe"));
}

#[test]
fn description_for_an_unused_keyword_is_a_warning_and_left_out() {
    let site = SiteTest::new("keywords");
    site.build();
    site.write(
        "content/suchworte/sozialhilfen.md",
        "+++\ntitle = \"Sozialhilfen\"\n+++\nGEHEIM\n",
    );
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "\
content/suchworte/sozialhilfen.md: warning: description for keyword `sozialhilfen`, but no page of this build carries that keyword; it is left out
  = hint: did you mean `sozialhilfe`?
built 4 pages, 2 sections, 8 keywords: 19 files in [ROOT]/public
"
    );
    assert!(!site.exists("public/suchworte/sozialhilfen"));
}

#[test]
fn spellings_differing_in_case_are_merged_with_a_warning() {
    let site = SiteTest::new("keywords");
    site.write(
        "content/themen/eins.md",
        "+++\ntitle = \"Eins\"\nsuchworte = [\"EQUAL\"]\n+++\n",
    );
    site.write(
        "content/themen/zwei.md",
        "+++\ntitle = \"Zwei\"\nsuchworte = [\"equal\"]\n+++\n",
    );
    site.write(
        "content/themen/drei.md",
        "+++\ntitle = \"Drei\"\nsuchworte = [\"EQUAL\"]\n+++\n",
    );
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "\
content/themen/drei.md:3:14: warning: keyword written in different ways: EQUAL, equal
  |
3 | suchworte = [\"EQUAL\"]
  |              ^
  = hint: they are merged as `EQUAL`; use one spelling everywhere
built 7 pages, 2 sections, 9 keywords: 23 files in [ROOT]/public
"
    );
    // One keyword, named by the most used spelling.
    let equal = keyword("equal");
    assert_eq!(site.line(&equal, "name"), "EQUAL");
    assert_eq!(site.line(&equal, "count"), "3");
    assert_eq!(site.titles(&equal, "pages"), "Drei | Eins | Zwei");
    assert_eq!(
        site.titles("public/themen/zwei/index.html", "suchworte"),
        "EQUAL (3)"
    );
}

#[test]
fn decomposed_and_composed_umlauts_are_one_keyword() {
    let site = SiteTest::new("keywords");
    // "Beschäftigung" with a + U+0308 COMBINING DIAERESIS (NFD); recht.md has it composed (NFC).
    site.write(
        "content/themen/nfd.md",
        "+++\ntitle = \"Zerlegt\"\nsuchworte = [\"Bescha\u{308}ftigung\"]\n+++\n",
    );
    let run = site.build();
    // No look-alike or spelling warning: one keyword.
    assert_eq!(
        run.stderr(),
        "built 5 pages, 2 sections, 8 keywords: 20 files in [ROOT]/public\n"
    );
    let page = keyword("beschaeftigung");
    assert_eq!(site.line(&page, "name"), "Beschäftigung");
    assert_eq!(site.line(&page, "count"), "2");
    assert_eq!(site.titles(&page, "pages"), "Recht | Zerlegt");
    assert_eq!(site.line(INDEX, "total"), "8");
}

#[test]
fn near_duplicates_are_a_warning() {
    let site = SiteTest::new("keywords");
    site.write(
        "content/themen/netz.md",
        "+++\ntitle = \"Netz\"\nsuchworte = [\"Netzwerk\"]\n+++\n",
    );
    site.write(
        "content/themen/netze.md",
        "+++\ntitle = \"Netze\"\nsuchworte = [\"Netzwerke\"]\n+++\n",
    );
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "\
content/themen/netze.md:3:14: warning: keywords `Netzwerk` and `Netzwerke` look alike (edit distance 1)
  |
3 | suchworte = [\"Netzwerke\"]
  |              ^
  = hint: if they mean the same, use one of them, or map one to the other in [keywords.synonyms]
built 6 pages, 2 sections, 10 keywords: 23 files in [ROOT]/public
"
    );
    assert!(site.exists(&keyword("netzwerk")));
    assert!(site.exists(&keyword("netzwerke")));
}

#[test]
fn near_duplicate_warning_can_be_turned_off() {
    let site = SiteTest::new("keywords");
    let config = site.file("config.toml") + "\n[keywords]\nnear_duplicate_distance = 0\n";
    site.write("config.toml", config);
    site.write(
        "content/themen/netz.md",
        "+++\ntitle = \"Netz\"\nsuchworte = [\"Netzwerk\", \"Netzwerke\"]\n+++\n",
    );
    let run = site.build();
    // Without the setting this page gets the look-alike warning (edit distance 1).
    assert_eq!(
        run.stderr(),
        "built 5 pages, 2 sections, 10 keywords: 22 files in [ROOT]/public\n"
    );
    assert!(site.exists(&keyword("netzwerk")));
    assert!(site.exists(&keyword("netzwerke")));
}

#[test]
fn near_duplicate_distance_is_capped() {
    let site = SiteTest::new("keywords");
    site.build();
    let config = site.file("config.toml") + "\n[keywords]\nnear_duplicate_distance = 9\n";
    site.write("config.toml", config);
    let run = site.build_fails_cleanly();
    assert!(
        run.stderr()
            .contains("error: near_duplicate_distance = 9 is too large"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("hint: use 1, 2 (the default) or 3"));
}

#[test]
fn keyword_path_is_configurable() {
    let site = SiteTest::new("keywords_vocab");
    let config = site
        .file("config.toml")
        .replace("[keywords]\n", "[keywords]\npath = \"stichworte\"\n");
    site.write("config.toml", config);
    site.build();
    assert!(!site.exists("public/suchworte"));
    assert_eq!(
        site.files("public/stichworte"),
        [
            "arbeitslosenhilfe/index.html",
            "index.html",
            "sozialhilfe/index.html"
        ]
    );
    assert_eq!(
        site.line("public/hilfe/index.html", "suchworte"),
        "[Arbeitslosenhilfe](https://example.org/stichworte/arbeitslosenhilfe/) (1) | \
         [Sozialhilfe](https://example.org/stichworte/sozialhilfe/) (1)"
    );
    assert_eq!(
        site.line("public/index.html", "keywords_url"),
        "https://example.org/stichworte/"
    );
}

#[test]
fn keywords_with_the_same_slug_are_an_error_naming_both() {
    let site = SiteTest::new("keywords");
    site.build();
    // aerger.md has "Straße"; both give /suchworte/strasse/.
    site.write(
        "content/themen/weg.md",
        "+++\ntitle = \"Weg\"\nsuchworte = [\"Strasse\"]\n+++\n",
    );
    let run = site.build_fails_cleanly();
    assert_eq!(
        run.stderr(),
        "\
content/themen/aerger.md:3:38: error: keywords `Straße` and `Strasse` both have the URL /suchworte/strasse/
  |
3 | suchworte = [\"Ämter\", \"Sozialhilfe\", \"Straße\", \"Öffentlicher Dienst\"]
  |                                      ^
  = hint: use one spelling for both (or map one to the other in [keywords.synonyms]); `Strasse` is used at content/themen/weg.md:3:14
error: build failed with 1 error; nothing was written
"
    );
}

#[test]
fn controlled_vocabulary_normalises_allowed_keywords() {
    let site = SiteTest::new("keywords_vocab");
    site.build();
    // "sozialhilfe" takes the allowed spelling; the synonym "Alhi" is mapped before the check.
    assert_eq!(
        site.titles("public/hilfe/index.html", "suchworte"),
        "Arbeitslosenhilfe (1) | Sozialhilfe (1)"
    );
    assert_eq!(
        site.files("public/suchworte"),
        [
            "arbeitslosenhilfe/index.html",
            "index.html",
            "sozialhilfe/index.html"
        ]
    );
}

#[test]
fn keywords_outside_the_controlled_vocabulary_are_errors() {
    let site = SiteTest::new("keywords_vocab");
    site.build();
    site.write(
        "content/gruenden.md",
        "+++\ntitle = \"Gründen\"\nsuchworte = [\"Existenzgründungen\", \"Sozialhilfe\", \"Wohngeld\"]\n+++\n",
    );
    let run = site.build_fails_cleanly();
    assert_eq!(
        run.stderr(),
        "\
content/gruenden.md:3:14: error: keyword `Existenzgründungen` is not in the controlled vocabulary
  |
3 | suchworte = [\"Existenzgründungen\", \"Sozialhilfe\", \"Wohngeld\"]
  |              ^
  = hint: did you mean `Existenzgründung`?
content/gruenden.md:3:51: error: keyword `Wohngeld` is not in the controlled vocabulary
  |
3 | suchworte = [\"Existenzgründungen\", \"Sozialhilfe\", \"Wohngeld\"]
  |                                                   ^
  = hint: add it to [keywords] allowed in config.toml, or use an allowed keyword
error: build failed with 2 errors; nothing was written
"
    );
}
