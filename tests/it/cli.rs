//! Command line: help, version, usage errors, `check`, `--output-dir`.

use crate::harness::SiteTest;

#[test]
fn help_exits_0() {
    let site = SiteTest::new("minimal");
    let run = site.run(&["--help"]).success();
    assert!(
        run.stdout().contains("Usage: wegweiser <COMMAND>"),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("build"));
    assert!(run.stdout().contains("check"));
    let run = site.run(&["build", "--help"]).success();
    assert!(run.stdout().contains("--output-dir"), "{}", run.stdout());
    assert!(run.stdout().contains("--drafts"));
    assert!(!site.exists("public"));
}

#[test]
fn version_exits_0() {
    let site = SiteTest::new("minimal");
    let run = site.run(&["--version"]).success();
    assert_eq!(
        run.stdout(),
        format!("wegweiser {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let site = SiteTest::new("minimal");
    let run = site.run(&["build", "--frobnicate"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("error: unexpected argument '--frobnicate' found"),
        "{}",
        run.stderr()
    );
    assert!(!site.exists("public"));
}

#[test]
fn missing_command_is_a_usage_error() {
    let site = SiteTest::new("minimal");
    let run = site.run(&[]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    // The usage with the commands, on stderr; nothing built.
    assert!(
        run.stderr()
            .contains("\nUsage: wegweiser <COMMAND>\n\nCommands:\n  build "),
        "{}",
        run.stderr()
    );
    assert_eq!(run.stdout(), "");
    assert!(!site.exists("public"));
}

#[test]
fn check_validates_without_writing() {
    let site = SiteTest::new("minimal");
    let run = site.run(&["check"]).success();
    assert_eq!(
        run.stderr(),
        "checked 1 page, 1 section, 0 keywords: no errors\n"
    );
    assert!(!site.exists("public"));
    site.assert_no_leftovers();
}

#[test]
fn check_reports_errors_with_exit_code_1() {
    let site = SiteTest::new("minimal");
    site.build();
    let before = site.snapshot_dir("public");
    site.write(
        "content/seite.md",
        "+++\ntitle = \"Seite\"\n+++\n[x](@/fehlt.md)\n",
    );
    let run = site.run(&["check"]).failure();
    assert_eq!(
        run.stderr(),
        "\
content/seite.md:4:1: error: link to a missing page: `fehlt.md` does not exist in content/
  |
4 | [x](@/fehlt.md)
  | ^
  = hint: link to a file below content/, e.g. [Text](@/initiativen/_index.md)
error: build failed with 1 error; nothing was written
"
    );
    assert_eq!(site.snapshot_dir("public"), before);
}

#[test]
fn check_leaves_an_existing_output_alone() {
    let site = SiteTest::new("minimal");
    site.build();
    site.write("content/seite.md", "+++\ntitle = \"Geändert\"\n+++\n");
    let before = site.snapshot_dir("public");
    site.run(&["check"]).success();
    assert_eq!(site.snapshot_dir("public"), before);
}

#[test]
fn output_dir_flag_writes_there() {
    let site = SiteTest::new("minimal");
    let run = site.build_with(&["--output-dir", "other"]);
    assert_eq!(
        run.stderr(),
        "built 1 page, 1 section, 0 keywords: 7 files in [ROOT]/other\n"
    );
    assert_eq!(
        site.files("other"),
        [
            "atom.xml",
            "index.html",
            "robots.txt",
            "seite/index.html",
            "sitemap.xml",
            "suchworte/index.html",
            "theme.css"
        ]
    );
    assert_eq!(site.line("other/seite/index.html", "title"), "Seite");
    assert!(!site.exists("public"));
    site.assert_no_leftovers();
}

#[test]
fn output_dir_may_be_absolute() {
    let site = SiteTest::new("minimal");
    let out = site.root().join("deep").join("out");
    site.build_with(&["-o", out.to_str().unwrap()]);
    assert!(site.exists("deep/out/seite/index.html"));
    assert!(!site.exists("public"));
}

#[test]
fn output_dir_may_not_replace_the_site() {
    let site = SiteTest::new("minimal");
    let run = site.run(&["build", "--output-dir", "content"]).failure();
    site.assert_check_agrees(&["build", "--output-dir", "content"], &run);
    assert_eq!(
        run.stderr(),
        "\
error: refusing to use `content` as the output directory
caused by: it would replace the site's own files
hint: choose a separate folder such as public/
"
    );
    assert!(site.exists("content/seite.md"));
}

#[test]
fn invalid_base_url_flag_is_blamed_on_the_flag() {
    let site = SiteTest::new("minimal");
    let run = site.run(&["build", "--base-url", "/portal"]);
    assert_eq!(run.code(), 2, "a bad flag value is a usage error");
    assert!(run.stderr().contains("--base-url"), "{}", run.stderr());
    assert!(
        !run.stderr().contains("config.toml:2:1"),
        "{}",
        run.stderr()
    );
}

#[test]
fn missing_root_is_an_error() {
    let site = SiteTest::new("minimal");
    // A usage error (exit code 2) naming the flag.
    let run = site.run(&["build", "--root", "nirgends"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert_eq!(
        run.stderr(),
        "error: --root `nirgends` does not exist\n  = hint: pass the site's folder (the one with config.toml), e.g. --root portal\n"
    );
    // A folder without config.toml is not a site: the config says so.
    std::fs::create_dir(site.root().join("leer")).unwrap();
    let run = site.run(&["build", "--root", "leer"]).failure();
    assert!(
        run.stderr()
            .starts_with("config.toml: error: cannot read the site configuration:"),
        "{}",
        run.stderr()
    );
    assert!(run
        .stderr()
        .contains("= hint: run wegweiser in the site's root folder or pass --root DIR"));
}

#[test]
fn timings_flag_prints_the_stages() {
    let site = SiteTest::new("minimal");
    let run = site.build_with(&["--timings"]);
    let stages: Vec<&str> = run
        .stderr()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(stage, _)| stage.trim())
        .filter(|s| !s.starts_with("built"))
        .collect();
    assert_eq!(
        stages,
        [
            "load", "parse", "resolve", "markdown", "keywords", "render", "publish", "write",
            "total"
        ]
    );
}
