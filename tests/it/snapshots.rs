//! Whole rendered files of a small site with the test theme, as insta snapshots in snapshots/.

use crate::harness::SiteTest;

#[test]
fn page_html() {
    let site = SiteTest::new("snapshot");
    site.build();
    insta::assert_snapshot!(site.file("public/projekte/wegweiser/index.html"));
}

#[test]
fn keyword_index_html() {
    let site = SiteTest::new("snapshot");
    site.build();
    insta::assert_snapshot!(site.file("public/suchworte/index.html"));
}

#[test]
fn keyword_html() {
    let site = SiteTest::new("snapshot");
    site.build();
    insta::assert_snapshot!(site.file("public/suchworte/beratung/index.html"));
}

/// Every error and warning of the bad-input catalogue says how to fix it: each diagnostic in a
/// recorded message (`path:line:col: error: …`, or `error: …` for usage errors) is followed by
/// a `= hint:` line before the next one starts.
#[test]
fn every_diagnostic_in_the_catalogue_has_a_hint() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    let mut missing = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("read the snapshots folder") {
        let path = entry.expect("snapshot entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("snap") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read a snapshot");
        let body = text.splitn(3, "---\n").nth(2).unwrap_or_default();
        let mut open: Option<&str> = None;
        for line in body.lines() {
            let starts = is_diagnostic_start(line);
            if starts || line.starts_with("error: build failed") {
                if let Some(d) = open.take() {
                    missing.push(format!("{}: {d}", path.display()));
                }
            }
            if starts {
                seen += 1;
                open = Some(line);
            } else if line
                .trim_start()
                .trim_start_matches("= ")
                .starts_with("hint:")
            {
                open = None;
            }
        }
        if let Some(d) = open {
            missing.push(format!("{}: {d}", path.display()));
        }
    }
    assert!(
        seen > 100,
        "only {seen} diagnostics found: is the snapshot format still the same?"
    );
    assert!(
        missing.is_empty(),
        "diagnostics without a hint:\n{}",
        missing.join("\n")
    );
}

/// `path:line:col: error: …`, `path: warning: …` or `error: …` (not the closing summary line).
fn is_diagnostic_start(line: &str) -> bool {
    if line.starts_with(' ') || line.starts_with('<') || line.starts_with("error: build failed") {
        return false;
    }
    ["error: ", "warning: "]
        .iter()
        .any(|k| line.starts_with(k) || line.contains(&format!(": {k}")))
}

/// Snapshot headers carry no `assertion_line`: it changes whenever a line is added above the
/// assertion, so every unrelated edit would rewrite the snapshot (insta ≥ 1.49 no longer
/// writes it; older versions did).
#[test]
fn snapshots_carry_no_assertion_line() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    let mut checked = 0;
    let mut with_line = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("read the snapshots folder") {
        let path = entry.expect("snapshot entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("snap") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read a snapshot");
        let header = text.split("---\n").nth(1).unwrap_or_default();
        checked += 1;
        if header.lines().any(|l| l.starts_with("assertion_line:")) {
            with_line.push(path.display().to_string());
        }
    }
    assert!(checked > 100, "only {checked} snapshots found");
    assert!(
        with_line.is_empty(),
        "assertion_line in:\n{}",
        with_line.join("\n")
    );
}
