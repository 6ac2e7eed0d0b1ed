//! Issue #12: config errors are placed from the TOML document's spans, not by searching the
//! text. A bad `base_url` of a target is reported at that target's value: a text search for
//! `base_url` would land on the top-level key (line 3) or on the comment that names it.

use crate::harness::{json_diagnostic_lines, SiteTest};

/// The bad value sits on line 13, its opening quote in column 18 (the odd spacing makes a
/// column found any other way differ).
const CONFIG: &str = "\
title = \"Positionen\"
search = false
base_url = \"https://example.org/\"
theme = \"test\"
default_target = \"intranet\"

[targets.intranet]
base_url = \"https://intranet.example.org/\"
output_dir = \"ausgabe/intranet\"

[targets.internet]
# base_url: this target's address on the internet
  base_url   =   \"https://www.example.org/a b/\"
output_dir = \"public\"
";

const AT_THE_VALUE: &str =
    "config.toml:13:18: error: base_url `https://www.example.org/a b/` contains a space";

fn site() -> SiteTest {
    let site = SiteTest::new("minimal");
    site.write("config.toml", CONFIG);
    site
}

#[test]
fn a_targets_bad_base_url_is_reported_at_its_value() {
    let site = site();
    // Chosen or not, every target's base_url is checked, and placed the same way.
    for args in [
        &["build", "--target", "internet"][..],
        &["build", "--target", "intranet"][..],
        &["build"][..],
    ] {
        let run = site.run(args).failure();
        let first = run.stderr().lines().next().unwrap_or_default();
        assert!(
            first.starts_with(AT_THE_VALUE),
            "{args:?}:\n{}",
            run.stderr()
        );
        assert!(
            !run.stderr().contains("config.toml:3:") && !run.stderr().contains("config.toml:12:"),
            "{args:?}: reported at the top-level key or the comment:\n{}",
            run.stderr()
        );
        assert!(
            run.stderr()
                .contains("\n13 |   base_url   =   \"https://www.example.org/a b/\"\n"),
            "{args:?}: the source line is not shown:\n{}",
            run.stderr()
        );
        site.assert_check_agrees(args, &run);
    }
}

#[test]
fn the_json_report_carries_the_same_line_and_column() {
    let site = site();
    let run = site.run(&["check", "--format", "json", "--target", "internet"]);
    assert_eq!(run.code(), 1, "{}", run.stdout());
    let lines = json_diagnostic_lines(run.stdout());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with(AT_THE_VALUE), "{lines:?}");
}
