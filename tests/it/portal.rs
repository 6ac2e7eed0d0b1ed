//! The bundled portal itself (issue #3): built from the repository's content/ and theme, and
//! checked against the report in ../shared/seed where it is available.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the repository's portal into a fresh temp folder; returns (tempdir, output path).
fn build_portal() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = Command::new(env!("CARGO_BIN_EXE_wegweiser"))
        .args(["build", "--root"])
        .arg(root)
        .arg("--output-dir")
        .arg(&out)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        !stderr.contains("warning"),
        "the portal builds without warnings:\n{stderr}"
    );
    (tmp, out)
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

#[test]
fn project_data_matches_anlage_3() {
    let (_tmp, out) = build_portal();
    let json: serde_json::Value =
        serde_json::from_str(&read(&out, &format!("{SECTION_I}/projekte.json"))).unwrap();
    let projects = json["projekte"].as_array().unwrap();
    assert_eq!(projects.len(), 28);
    let tranche = |n: i64| projects.iter().filter(|p| p["tranche"] == n).count();
    assert_eq!((tranche(1), tranche(2)), (20, 8));
    let beantragt: Vec<&str> = projects
        .iter()
        .filter(|p| p["status"] == "beantragt")
        .map(|p| p["antragsteller"].as_str().unwrap())
        .collect();
    assert_eq!(beantragt, ["Kreis Mayen-Koblenz"]);

    // Every amount of Anlage 3 appears once, in the report's order.
    let report = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/000_308b38db20270e23.txt"),
    );
    if let Ok(report) = report {
        let anlage3 = &report[report.find("Anlage 3").unwrap()..];
        let amounts: Vec<String> = anlage3
            .split(['\t', '\n'])
            .filter_map(|cell| cell.trim().strip_suffix(" DM"))
            .map(|a| a.trim_start_matches("beantragt: ").to_string())
            .collect();
        let ours: Vec<String> = projects
            .iter()
            .map(|p| {
                let dm = p["foerderung_dm"].as_f64().unwrap();
                let cents = (dm * 100.0).round() as i64;
                format!("{},{:02}", group(cents / 100), cents % 100)
            })
            .collect();
        assert_eq!(ours, amounts);
    }
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
    let (_tmp, out) = build_portal();
    let html = read(&out, &format!("{SECTION_I}/index.html"));
    for expected in [
        "35.934.696,30 DM", // 1. Tranche, bewilligt
        "10.336.922,88 DM", // 2. Tranche, bewilligt
        "222.000,00 DM",    // 2. Tranche, beantragt (Mayen-Koblenz)
        "46.271.619,18 DM", // total bewilligt
        "23.658.303,22 €",  // total bewilligt in euro at 1,95583
        "1.115.000,00 DM",  // Bezirksamt Berlin-Marzahn
        "570.090,45 €",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    let csv = read(&out, &format!("{SECTION_I}/projekte.csv"));
    assert_eq!(csv.lines().count(), 29, "header + 28 projects");
    assert!(
        csv.contains("\"Sozialamt Kreis Höxter\""),
        "Hörter corrected"
    );
}

#[test]
fn every_report_keyword_has_a_page() {
    let (_tmp, out) = build_portal();
    for kw in [
        "beschaeftigungsinitiativen",
        "zusammenarbeit-von-arbeitsaemtern-und-sozialaemtern",
        "beschaeftigungsfoerderung",
        "beschaeftigungsfoerderung-in-kommunen",
        "equal",
        "beschaeftigungsprojekte",
        "netzwerke",
        "entwicklungspartnerschaften",
        "arbeitsmarktakteure",
        "existenzgruendung",
        "sicherung-der-arbeitsplaetze",
        "benachteiligtenfoerderung",
        "jugendliche",
    ] {
        let page = read(&out, &format!("suchworte/{kw}/index.html"));
        assert!(page.contains("<a "), "{kw} lists pages");
    }
}

#[test]
fn every_page_is_german_with_one_h1_and_links_to_keywords_and_legal_pages() {
    let (_tmp, out) = build_portal();
    let pages = html_files(&out);
    assert!(pages.len() > 90, "{}", pages.len());
    for p in pages {
        let html = std::fs::read_to_string(&p).unwrap();
        let shown = p.strip_prefix(&out).unwrap().display().to_string();
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
    let (_tmp, out) = build_portal();
    let html = read(&out, "impressum/index.html");
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
    let (_tmp, out) = build_portal();
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
        assert_eq!(menu_marks(&out, rel), expected, "{rel}");
    }
    assert_eq!(menu_marks(&out, "impressum/index.html"), []);
}
