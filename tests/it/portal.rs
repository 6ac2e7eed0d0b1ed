//! The bundled portal itself (issue #3): built from the repository's content/ and theme, and
//! checked against the report it is made from (its facts copied to fixtures/seed_facts.toml).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::content;
use crate::harness::{portal, PortalBuild};
use crate::scan;

/// The default target's build (intranet), shared with the other tests of this binary.
fn intranet() -> &'static PortalBuild {
    portal("intranet")
}

fn read(out: &Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(html_files(&p));
        } else if p.extension().is_some_and(|x| x == "html") {
            out.push(p);
        }
    }
    out
}

const SECTION_I: &str = "initiativen/zusammenarbeit-arbeitsaemter-sozialaemter";
/// Base URL of the default target (intranet).
const BASE: &str = "https://intranet.example.org/beschaeftigungsinitiativen/";

/// The report's facts (tests/it/fixtures/seed_facts.toml).
struct Seed {
    keywords: Vec<String>,
    projects: Vec<SeedProject>,
    /// The portal's spelling corrections, report → portal.
    corrections: Vec<(String, String)>,
}

/// One row of Anlage 3, as printed.
struct SeedProject {
    nr: i64,
    tranche: i64,
    antragsteller: String,
    akteure: String,
    finanzierung: String,
}

impl SeedProject {
    /// "beantragt: 222.000,00 DM" is applied for, not granted.
    fn applied_for(&self) -> bool {
        self.finanzierung.starts_with("beantragt: ")
    }

    /// The amount in pfennigs.
    fn cents(&self) -> i64 {
        let amount = self.finanzierung.trim_start_matches("beantragt: ");
        let digits: String = amount
            .strip_suffix(" DM")
            .unwrap_or_else(|| panic!("not an amount in DM: {amount}"))
            .chars()
            .filter(|c| *c != '.' && *c != ',')
            .collect();
        digits.parse().unwrap()
    }
}

fn seed() -> Seed {
    let path = content::repo().join("tests/it/fixtures/seed_facts.toml");
    let t: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let text = |v: &toml::Value, k: &str| v[k].as_str().unwrap().to_string();
    let int = |v: &toml::Value, k: &str| v[k].as_integer().unwrap();
    Seed {
        keywords: t["suchworte"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect(),
        projects: t["projekt"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| SeedProject {
                nr: int(p, "nr"),
                tranche: int(p, "tranche"),
                antragsteller: text(p, "antragsteller"),
                akteure: text(p, "akteure"),
                finanzierung: text(p, "finanzierung"),
            })
            .collect(),
        corrections: t["corrections"]
            .as_table()
            .unwrap()
            .iter()
            .map(|(from, to)| (from.clone(), to.as_str().unwrap().to_string()))
            .collect(),
    }
}

/// `1234567` pfennigs → `12.345,67`.
fn money(cents: i64) -> String {
    format!("{},{:02}", group(cents / 100), cents % 100)
}

#[test]
fn project_data_matches_anlage_3() {
    let seed = seed();
    assert_eq!(seed.projects.len(), 28, "Anlage 3 has 28 projects");
    let out = &intranet().out;
    let json: serde_json::Value =
        serde_json::from_str(&read(out, &format!("{SECTION_I}/projekte.json"))).unwrap();
    let projects = json["projekte"].as_array().unwrap();
    assert_eq!(projects.len(), seed.projects.len());

    // The report's spelling with the portal's corrections; each correction must be needed.
    let mut used = BTreeSet::new();
    let mut corrected = |s: &str| {
        let mut s = s.to_string();
        for (from, to) in &seed.corrections {
            if s.contains(from.as_str()) {
                used.insert(from.clone());
                s = s.replace(from.as_str(), to);
            }
        }
        s
    };
    // In the report's order, field by field.
    for (ours, row) in projects.iter().zip(&seed.projects) {
        let name = corrected(&row.antragsteller);
        let akteure: Vec<String> = corrected(&row.akteure)
            .split('/')
            .map(|a| a.trim().to_string())
            .collect();
        let status = if row.applied_for() {
            "beantragt"
        } else {
            "bewilligt"
        };
        let dm = ours["foerderung_dm"].as_f64().unwrap();
        assert_eq!(
            (
                ours["nr"].as_i64().unwrap(),
                ours["tranche"].as_i64().unwrap(),
                ours["antragsteller"].as_str().unwrap(),
                ours["akteure"].as_array().unwrap().clone(),
                ours["status"].as_str().unwrap(),
                money((dm * 100.0).round() as i64),
            ),
            (
                row.nr,
                row.tranche,
                name.as_str(),
                akteure.iter().map(|a| serde_json::json!(a)).collect(),
                status,
                money(row.cents()),
            ),
            "project {} of Anlage 3",
            row.nr
        );
    }
    let tranche = |n: i64| projects.iter().filter(|p| p["tranche"] == n).count();
    assert_eq!((tranche(1), tranche(2)), (20, 8));
    let unused: Vec<&String> = seed
        .corrections
        .iter()
        .map(|(from, _)| from)
        .filter(|from| !used.contains(*from))
        .collect();
    assert!(
        unused.is_empty(),
        "corrections no longer needed: {unused:?}"
    );
}
fn group(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[test]
fn project_table_sums_tranches_and_status_apart() {
    let seed = seed();
    let sum = |keep: &dyn Fn(&SeedProject) -> bool| -> i64 {
        seed.projects
            .iter()
            .filter(|p| keep(p))
            .map(SeedProject::cents)
            .sum()
    };
    let first = sum(&|p| p.tranche == 1 && !p.applied_for());
    let second = sum(&|p| p.tranche == 2 && !p.applied_for());
    let applied_for = sum(&|p| p.applied_for());
    let granted = first + second;
    // Euro at the fixed rate of 1,95583 DM, rounded to the cent.
    let euro = (granted * 100_000 + 195_583 / 2) / 195_583;
    let marzahn = seed
        .projects
        .iter()
        .find(|p| p.antragsteller == "Bezirksamt Berlin-Marzahn")
        .expect("Marzahn is in Anlage 3")
        .cents();
    let expected = [
        format!("{} DM", money(first)),
        format!("{} DM", money(second)),
        format!("{} DM", money(applied_for)),
        format!("{} DM", money(granted)),
        format!("{} €", money(euro)),
        format!("{} DM", money(marzahn)),
        format!("{} €", money((marzahn * 100_000 + 195_583 / 2) / 195_583)),
    ];
    // The same figures as worked out by hand from the report.
    assert_eq!(
        expected,
        [
            "35.934.696,30 DM", // 1. Tranche, bewilligt
            "10.336.922,88 DM", // 2. Tranche, bewilligt
            "222.000,00 DM",    // 2. Tranche, beantragt (Mayen-Koblenz)
            "46.271.619,18 DM", // total bewilligt
            "23.658.303,22 €",  // total bewilligt in euro at 1,95583
            "1.115.000,00 DM",  // Bezirksamt Berlin-Marzahn
            "570.090,45 €",
        ]
    );
    let out = &intranet().out;
    let html = read(out, &format!("{SECTION_I}/index.html"));
    for figure in &expected {
        assert!(html.contains(figure.as_str()), "missing {figure}");
    }
    let csv = read(out, &format!("{SECTION_I}/projekte.csv"));
    assert_eq!(csv.lines().count(), 29, "header + 28 projects");
    assert!(
        csv.contains("\"Sozialamt Kreis Höxter\""),
        "Hörter corrected"
    );
}

/// (URL, title) of each entry of a keyword page's page list, in order.
fn listed_pages(html: &str) -> Vec<(String, String)> {
    let start = html
        .find("<section aria-labelledby=\"ww-kw-pages-title\">")
        .expect("a list of pages");
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    section
        .split("class=\"page-list__title\"><a href=\"")
        .skip(1)
        .map(|item| {
            let (url, rest) = item.split_once("\">").unwrap();
            let title = rest.split("</a>").next().unwrap();
            (scan::unescape(url), scan::unescape(title))
        })
        .collect()
}

#[test]
fn every_report_keyword_page_lists_the_pages_that_carry_it() {
    let seed = seed();
    assert_eq!(seed.keywords.len(), 13);
    let docs = content::docs();
    let internal = content::internal(&docs);
    let keywords = content::Keywords::from_config(&content::config());
    let out = &intranet().out;
    for name in &seed.keywords {
        let wanted = keywords.canonical(name);
        // The intranet has internal pages too; drafts and keyword descriptions are no pages.
        let mut expected: Vec<(String, String)> = docs
            .iter()
            .zip(&internal)
            .filter(|(d, _)| !d.flag("draft"))
            .filter(|(d, _)| !d.rel.starts_with(&format!("{}/", keywords.path)))
            .filter(|(d, _)| d.keywords().iter().any(|k| keywords.canonical(k) == wanted))
            .map(|(d, _)| {
                (
                    format!("{BASE}{}", &d.url_path()[1..]),
                    d.str("title").to_string(),
                )
            })
            .collect();
        assert!(!expected.is_empty(), "no page carries {name}");
        let page = read(
            out,
            &format!("{}/{}/index.html", keywords.path, scan::slug(name)),
        );
        assert!(
            page.contains(&format!("<h1>{name}</h1>")),
            "the page of {name} is named so"
        );
        let mut listed = listed_pages(&page);
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected, "the pages listed for {name}");
    }
    // Internal pages are listed: the intranet build is the one checked.
    assert!(internal.iter().any(|i| *i), "the portal has internal pages");
}

#[test]
fn every_page_is_german_with_one_h1_and_links_to_keywords_and_legal_pages() {
    let out = &intranet().out;
    let pages = html_files(out);
    assert!(pages.len() > 90, "{}", pages.len());
    for p in pages {
        let html = std::fs::read_to_string(&p).unwrap();
        let shown = p.strip_prefix(out).unwrap().display().to_string();
        assert!(html.starts_with("<!DOCTYPE html>"), "{shown}");
        assert!(html.contains("<html lang=\"de\">"), "{shown}");
        assert_eq!(html.matches("<h1").count(), 1, "{shown}: one h1");
        for link in [
            "suchworte/",
            "impressum/",
            "datenschutz/",
            "barrierefreiheit/",
        ] {
            assert!(
                html.contains(&format!("href=\"{BASE}{link}\"")),
                "{shown} links to {link}"
            );
        }
        // No external requests: no script, style or image from another host.
        for attr in ["src=\"http", "<link rel=\"stylesheet\" href=\"http"] {
            for (i, _) in html.match_indices(attr) {
                let rest = &html[i..];
                assert!(
                    rest.contains(BASE) && rest.find(BASE) == rest.find("http"),
                    "{shown}: external resource"
                );
            }
        }
    }
}

#[test]
fn publisher_data_comes_from_config() {
    let html = read(&intranet().out, "impressum/index.html");
    assert!(html.contains("[Bitte eintragen: Name der herausgebenden Stelle]"));
    assert!(!html.contains("{{ extra."), "placeholders are filled");
}

/// The main menu's `aria-current` marks, as (entry text, value), of one output file.
fn menu_marks(out: &Path, rel: &str) -> Vec<(String, String)> {
    let html = read(out, rel);
    let start = html.find("<nav class=\"main-nav\"").unwrap();
    let nav = &html[start..start + html[start..].find("</nav>").unwrap()];
    nav.split("<li>")
        .skip(1)
        .filter_map(|li| {
            let value = li.split("aria-current=\"").nth(1)?.split('"').next()?;
            let text = li.split('>').nth(1)?.split('<').next()?;
            Some((text.to_string(), value.to_string()))
        })
        .collect()
}

#[test]
fn main_menu_marks_the_current_entry_on_every_kind_of_page() {
    // The menu is rendered once per state (partials/menu.html), so each state is checked.
    let out = &intranet().out;
    for (rel, entry, value) in [
        ("index.html", "Startseite", "page"),
        ("initiativen/index.html", "Initiativen", "page"),
        ("initiativen/equal/index.html", "Initiativen", "true"),
        (
            "initiativen/equal/aktionen/index.html",
            "Initiativen",
            "true",
        ),
        ("suchworte/index.html", "Suchworte", "page"),
        (
            "suchworte/arbeitslosenhilfe/index.html",
            "Suchworte",
            "true",
        ),
    ] {
        let expected = vec![(entry.to_string(), value.to_string())];
        assert_eq!(menu_marks(out, rel), expected, "{rel}");
    }
    assert_eq!(menu_marks(out, "impressum/index.html"), []);
}

#[test]
fn the_portal_builds_without_warnings() {
    for target in ["intranet", "internet"] {
        let stderr = &portal(target).stderr;
        assert!(stderr.contains("built "), "--target {target}:\n{stderr}");
        assert!(
            !stderr.contains("warning"),
            "--target {target} builds without warnings:\n{stderr}"
        );
    }
}
