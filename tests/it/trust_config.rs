//! Issue #11 (trust): config. Bad-input cases use the catalogue helpers of `bad_input`.
//!
//! The configuration and the command line belong to publishers: trusted, but their mistakes
//! must end in a clear error at the value that causes it, never in unsafe output. Every
//! failing case here also runs `check` (through the helpers) and must fail the same way.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::bad_input::{broken, built_site, fails_cleanly_with, replace_in, symlink};
use crate::harness::{json_diagnostic_lines, SiteTest};

/// The script of issue #11: it would end the inline print style of every page.
const HOSTILE_URL: &str = "https://example.org/</style><svg/onload=alert(1)>/";

const TARGETS: &str = "\ndefault_target = \"internet\"\n\n[targets.internet]\nbase_url = \"https://www.example.org/\"\noutput_dir = \"public\"\n\n[targets.intranet]\nbase_url = \"https://intranet.example.org/\"\noutput_dir = \"ausgabe/intranet\"\nintern = true\n";

/// The `bad_input` site with two targets (`default_target` must come before the tables).
fn with_targets(site: &SiteTest) {
    replace_in(
        site,
        "config.toml",
        "search = false\n",
        &format!("search = false{TARGETS}"),
    );
}

// ---------------------------------------------------------------------------------------------
// base_url: flag and config

#[test]
fn base_url_flag_with_markup_is_a_usage_error_for_build_and_check() {
    let site = built_site();
    let stderr = fails_cleanly_with(&site, &["--base-url", HOSTILE_URL], 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn base_url_flag_with_markup_is_a_usage_error_for_serve() {
    // `serve` used to ignore --base-url; a server that starts anyway is killed after 30 s.
    let site = built_site();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wegweiser"))
        .args(["serve", "--port", "0", "--base-url", HOSTILE_URL])
        .current_dir(site.root())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve started despite the bad --base-url");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(2), "stderr:\n{stderr}");
    assert_eq!(
        stderr,
        "error: invalid value for --base-url: base_url `https://example.org/</style><svg/onload=alert(1)>/` contains `<`\n  = hint: a base URL may only contain letters, digits and - . _ ~ / : [ ] ! $ * + , ; = @ and percent-escapes such as %20\n"
    );
}

#[test]
fn base_url_with_markup_in_config_points_at_the_value() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "config.toml",
            "base_url = \"https://example.org/\"",
            &format!("base_url = \"{HOSTILE_URL}\""),
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn base_url_with_user_info_port_and_unicode_host_in_config() {
    // One wrong base URL per target, all reported at once, each at its own line.
    let stderr = broken(|s| {
        with_targets(s);
        replace_in(
            s,
            "config.toml",
            "\"https://www.example.org/\"",
            "\"https://redakteur:geheim@www.example.org/\"",
        );
        replace_in(
            s,
            "config.toml",
            "\"https://intranet.example.org/\"",
            "\"https://intranet.example.org:70000/\"",
        );
        replace_in(
            s,
            "config.toml",
            "base_url = \"https://example.org/\"",
            "base_url = \"https://bundesämter.example/\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn target_base_url_error_is_at_the_target_line() {
    // Used to be reported at the top-level `base_url` line.
    let stderr = broken(|s| {
        with_targets(s);
        replace_in(
            s,
            "config.toml",
            "\"https://intranet.example.org/\"",
            "\"https://intranet.example.org/a b/\"",
        );
    });
    assert!(stderr.starts_with("config.toml:12:12: error: "), "{stderr}");
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// Positions of config errors

#[test]
fn target_output_dir_pointing_at_the_site_is_an_error_at_its_line() {
    // content/, the theme, static/, the site root and an ancestor of it (`..`, `/`).
    for (dir, line) in [
        ("content", "content"),
        ("themes/test", "themes/test"),
        ("static", "static"),
        (".", "."),
        ("..", ".."),
        ("/", "/"),
    ] {
        let site = built_site();
        with_targets(&site);
        replace_in(
            &site,
            "config.toml",
            "output_dir = \"ausgabe/intranet\"",
            &format!("output_dir = \"{dir}\""),
        );
        let content = site.snapshot_dir("content");
        let stderr = crate::bad_input::fails_cleanly(&site);
        assert_eq!(site.snapshot_dir("content"), content);
        assert_eq!(
            stderr,
            format!(
                "config.toml:13:14: error: output_dir `{line}` of target `intranet` would replace the site's own files\n   |\n13 | output_dir = \"{dir}\"\n   |              ^\n  = hint: choose a separate folder such as \"public/internet\"\nerror: build failed with 1 error; nothing was written\n"
            ),
            "output_dir = {dir:?}"
        );
    }
}

#[test]
fn unknown_default_target_and_keyword_settings_point_at_their_values() {
    let stderr = broken(|s| {
        with_targets(s);
        replace_in(
            s,
            "config.toml",
            "default_target = \"internet\"",
            "default_target = \"internett\"",
        );
    });
    insta::assert_snapshot!("unknown_default_target", stderr);
    let stderr = broken(|s| {
        let text = s.file("config.toml");
        s.write(
            "config.toml",
            format!("{text}\n[keywords]\nrelated = 4\npath = \"Such Worte\"\nnear_duplicate_distance = 9\n"),
        );
    });
    insta::assert_snapshot!("keyword_settings", stderr);
}

#[test]
fn unknown_field_type_points_at_the_type() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "config.toml",
            "beginn = { type = \"date\"",
            "beginn = { type = \"datum\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// Theme and language

#[test]
fn theme_outside_the_site_is_an_error_at_the_theme_line() {
    for theme in ["../../etc", "/etc", "test/../../..", ""] {
        let site = built_site();
        replace_in(
            &site,
            "config.toml",
            "theme = \"test\"",
            &format!("theme = \"{theme}\""),
        );
        let stderr = crate::bad_input::fails_cleanly(&site);
        assert_eq!(
            stderr,
            format!(
                "config.toml:3:9: error: theme `{theme}` is not the name of a folder in themes/\n  |\n3 | theme = \"{theme}\"\n  |         ^\n  = hint: themes are folders in the site's themes/ folder; write its name, e.g. theme = \"default\"\nerror: build failed with 1 error; nothing was written\n"
            ),
            "theme = {theme:?}"
        );
    }
}

#[test]
#[cfg(unix)]
fn theme_that_is_a_symbolic_link_out_of_the_site() {
    let site = built_site();
    // The theme moved to a folder outside the test's folder, linked in as themes/extern.
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("extern-theme");
    std::fs::rename(site.root().join("themes/test"), &outside).unwrap();
    symlink(&outside, site.root().join("themes/extern"));
    replace_in(
        &site,
        "config.toml",
        "theme = \"test\"",
        "theme = \"extern\"",
    );
    let stderr = crate::bad_input::fails_cleanly(&site);
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_theme_is_an_error_at_the_theme_line() {
    let stderr = broken(|s| {
        replace_in(s, "config.toml", "theme = \"test\"", "theme = \"tset\"");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn language_without_translations_is_one_error_naming_the_file() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "config.toml",
            "theme = \"test\"",
            "theme = \"test\"\nlanguage = \"en\"",
        );
    });
    assert_eq!(stderr.matches("error:").count(), 2, "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn language_that_is_no_language_tag() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "config.toml",
            "theme = \"test\"",
            "theme = \"test\"\nlanguage = \"../de\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// check = build, --format json

#[test]
fn check_fails_on_a_bad_output_dir_like_build() {
    // `check` used to know no --output-dir and never looked at the output folder.
    let site = built_site();
    site.write("ablage", "eine Datei\n");
    for args in [
        &["--output-dir", "/"][..],
        &["--output-dir", "content"],
        &["--output-dir", "ablage"],
        &["--output-dir", "ablage/public"],
    ] {
        let stderr = fails_cleanly_with(&site, args, 1);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
}

#[test]
fn build_format_json_prints_the_diagnostics_on_stdout() {
    let site = built_site();
    let ok = site.run(&["build", "--format", "json"]);
    assert_eq!(ok.code(), 0, "{}", ok.stderr());
    assert_eq!(ok.stderr(), "");
    let v: serde_json::Value = serde_json::from_str(ok.stdout()).unwrap();
    assert_eq!(v["ok"], true);
    assert!(site.exists("public/index.html"));

    site.write(
        "content/info.md",
        "+++\ntitle = \"Info\"\ndescripton = \"x\"\n+++\n",
    );
    let before = site.snapshot_dir("public");
    let build = site.run(&["build", "--format", "json"]);
    let check = site.run(&["check", "--format", "json"]);
    assert_eq!(site.snapshot_dir("public"), before);
    assert_eq!((build.code(), check.code()), (1, 1));
    assert_eq!(build.stderr(), "");
    assert_eq!(build.stdout(), check.stdout());
    let v: serde_json::Value = serde_json::from_str(build.stdout()).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"], 1);
    assert_eq!(v["diagnostics"][0]["path"], "content/info.md");
    assert_eq!(v["diagnostics"][0]["line"], 3);
    assert_eq!(v["diagnostics"][0]["message"], "unknown key `descripton`");
    // The same diagnostic as the text output.
    let text = site.run(&["check"]);
    for line in json_diagnostic_lines(check.stdout()) {
        assert!(text.stderr().contains(&line), "{line}\n{}", text.stderr());
    }
}

#[test]
fn format_json_of_usage_and_config_errors_matches_the_text() {
    let site = built_site();
    let run = site.run(&["check", "--format", "json", "--base-url", HOSTILE_URL]);
    assert_eq!(run.code(), 2);
    let v: serde_json::Value = serde_json::from_str(run.stdout()).unwrap();
    assert_eq!(
        v["diagnostics"][0]["message"],
        format!("invalid value for --base-url: base_url `{HOSTILE_URL}` contains `<`")
    );
    replace_in(
        &site,
        "config.toml",
        "theme = \"test\"",
        "theme = \"fehlt\"",
    );
    let text = site.run(&["check"]);
    let json = site.run(&["build", "--format", "json"]);
    assert_eq!((text.code(), json.code()), (1, 1));
    let lines = json_diagnostic_lines(json.stdout());
    assert_eq!(
        lines,
        ["config.toml:3:9: error: theme `fehlt` not found in themes/"]
    );
    assert!(text.stderr().starts_with(&lines[0]), "{}", text.stderr());
}

// ---------------------------------------------------------------------------------------------
// Terminal escapes in diagnostics

#[test]
fn diagnostics_show_terminal_escapes_and_bidi_overrides_escaped() {
    // A key written with TOML escapes, so the message holds the real characters.
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\n\"\\u001b[31mrot\\u202e\" = 1\n+++\n",
        );
    });
    assert!(
        !stderr.contains(['\u{1b}', '\u{202e}']),
        "raw control characters in:\n{stderr}"
    );
    insta::assert_snapshot!("escaped_key", stderr);
    // A broken link after a raw ESC[31m and a right-to-left override in the body.
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\n+++\n\u{1b}[31m\u{202e} [x](@/fehlt.md)\n",
        );
    });
    assert!(
        !stderr.contains(['\u{1b}', '\u{202e}']),
        "raw control characters in:\n{stderr}"
    );
    insta::assert_snapshot!("escaped_body_line", stderr);
}

#[test]
fn caret_stays_under_the_cause_after_escapes() {
    // Raw control characters in TOML strings are TOML errors themselves: each caret must sit
    // under its character, shown escaped.
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\nextra = { a = \"\u{1b}[2J\u{8}\", date = 1 }\nupdated = \"\u{1b}x\u{2066}\" \n+++\n",
        );
    });
    assert!(
        !stderr.contains(['\u{1b}', '\u{8}', '\u{2066}']),
        "{stderr}"
    );
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// --root

#[test]
fn root_that_does_not_exist_is_a_usage_error() {
    let site = built_site();
    let missing = site.root().join("gibt-es-nicht");
    let stderr = fails_cleanly_with(&site, &["--root", missing.to_str().unwrap()], 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn root_that_is_missing_or_a_file_is_a_usage_error_for_every_command() {
    let site = built_site();
    let file = site.root().join("config.toml");
    for root in [site.root().join("gibt-es-nicht"), file] {
        let root = root.to_str().unwrap();
        for cmd in [
            &["check", "--root", root][..],
            &["serve", "--port", "0", "--root", root],
            &["new", "page", "neu.md", "--root", root],
        ] {
            let run = site.run(cmd);
            assert_eq!(run.code(), 2, "{cmd:?}: {}", run.stderr());
            assert!(
                run.stderr().starts_with("error: --root `[ROOT]/"),
                "{cmd:?}: {}",
                run.stderr()
            );
        }
    }
    assert!(!site.exists("content/neu.md"));
}

// ---------------------------------------------------------------------------------------------
// Warnings about config values

#[test]
fn see_also_warnings_point_at_the_keyword_in_config() {
    // Used to be `config.toml: warning: …` without a place.
    let site = SiteTest::new("keywords");
    let text = site.file("config.toml");
    site.write(
        "config.toml",
        format!("{text}\"Gibt es nicht\" = [\n  \"Sozialhilfe\",\n  \"Wohngeld\",\n]\n"),
    );
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "\
config.toml:11:1: warning: [keywords.see_also] names `Gibt es nicht`, which no page carries; the reference is left out
   |
11 | \"Gibt es nicht\" = [
   | ^
  = hint: only keywords that pages carry can be referenced
built 4 pages, 2 sections, 8 keywords: 19 files in [ROOT]/public
"
    );
    site.write(
        "config.toml",
        format!("{text}\"Sozialhilfe\" = [\n  \"Ämter\",\n  \"Wohngeld\",\n]\n"),
    );
    let run = site.build();
    assert!(
        run.stderr().starts_with(
            "config.toml:13:3: warning: [keywords.see_also] names `Wohngeld`, which no page carries; the reference is left out\n   |\n13 |   \"Wohngeld\",\n   |   ^\n"
        ),
        "{}",
        run.stderr()
    );
}

#[test]
fn site_title_with_control_characters_or_nothing_visible() {
    // Both would reach every page's <title>; the TOML escapes put real characters in.
    let stderr = broken(|s| {
        replace_in(
            s,
            "config.toml",
            "title = \"Schlechte Eingaben\"",
            "title = \"\\u200B\\u00A0\"\ndescription = \"Amt\\u001b[2J\\u0000\"",
        );
    });
    insta::assert_snapshot!(stderr);
}
