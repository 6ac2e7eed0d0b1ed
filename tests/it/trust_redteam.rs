//! Issue #11 (trust): holes found by trying variants of every class against the engine, as
//! the hidden corpus will. Bad-input cases use the catalogue helpers of `bad_input`.

use crate::bad_input::{broken, built_site, fails_cleanly_with, replace_in};
use crate::harness::dir_snapshot;

// ---------------------------------------------------------------------------------------------
// Script through the choice of template

/// Only `.html` templates escape what they print: a page rendered with the CSV template of an
/// open-data output would carry an editor's markup into its `index.html` raw.
#[test]
fn a_page_template_that_is_not_html_is_refused() {
    let stderr = broken(|s| {
        s.write("templates/daten.csv", "{{ page.title }}\n");
        replace_in(
            s,
            "content/info.md",
            "title = \"Info\"",
            "title = \"<script>alert(1)</script>\"\ntemplate = \"daten.csv\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// The output folder

/// `..` after a folder that does not exist yet: the output folder `public/neu/../../../site` is
/// the site itself, and a build that took it for a folder inside the site moved the whole site
/// aside (content/ included) to put the output in its place.
#[test]
fn output_dir_with_dot_dot_after_a_missing_folder_is_refused() {
    let site = built_site();
    let mut stderr = String::new();
    for out in ["public/neu/../../../site", "public/neu/../../.."] {
        stderr += &fails_cleanly_with(&site, &["--output-dir", out], 1);
    }
    assert!(site.exists("content/info.md"), "the site is gone");
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// Names every file system can hold

/// The publisher's static files and the theme's go to the Windows share of `dateiablage` as
/// well: a device name or a `:` is an error at the file, as for the files of content/.
#[test]
fn static_files_with_windows_device_names_are_refused() {
    let stderr = broken(|s| {
        s.write("static/CON.txt", "x");
        s.write("static/zeit:plan.txt", "x");
        s.write("themes/test/static/aux/a.css", "x");
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// The command line

/// `init` into a folder that already holds files mixed a site into them and replaced an
/// existing `content/_index.md` and theme templates; only a new or empty folder (hidden
/// entries such as `.git` aside) is used.
#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let site = built_site();
    site.write("alt/content/_index.md", "MEINS");
    site.write("alt/notizen.txt", "MEINS");
    let before = dir_snapshot(&site.root().join("alt"));
    let run = site.run(&["init", "alt"]);
    assert_eq!(run.code(), 2, "stderr:\n{}", run.stderr());
    assert_eq!(
        dir_snapshot(&site.root().join("alt")),
        before,
        "init changed files"
    );
    site.write("leer/.git/HEAD", "ref: refs/heads/main\n");
    let ok = site.run(&["init", "leer"]);
    assert_eq!(ok.code(), 0, "stderr:\n{}", ok.stderr());
    assert!(site.exists("leer/content/_index.md"));
    insta::assert_snapshot!(run.stderr());
}

// ---------------------------------------------------------------------------------------------
// Placeholders

/// `{{ extra.key }}` is filled in after the sanitiser: inside a tag the publisher's value
/// became an attribute the sanitiser never saw (`href="{{ extra.x }}"` with a `javascript:`
/// value, or a `"` that ends the attribute). Placeholders are text only.
#[test]
fn a_placeholder_inside_an_html_tag_is_an_error() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/info.md",
            "Herausgegeben von {{ extra.herausgeber }}.",
            "Herausgegeben von <a href=\"{{ extra.herausgeber }}\">uns</a>.",
        );
    });
    insta::assert_snapshot!(stderr);
}

/// In text a value with quotes and markup stays text.
#[test]
fn a_placeholder_value_with_markup_and_quotes_is_escaped() {
    let site = built_site();
    replace_in(
        &site,
        "config.toml",
        "herausgeber = \"Bundesanstalt für Arbeit\"",
        "herausgeber = \"Amt \\\"Nord\\\" <b onclick='x'>\"",
    );
    site.build();
    let page = site.file("public/info/index.html");
    assert!(
        page.contains("Amt &quot;Nord&quot; &lt;b onclick=&#39;x&#39;&gt;"),
        "{page}"
    );
}

/// The keyword pages' folder is a path segment of every target too.
#[test]
fn keyword_path_named_like_a_windows_device_is_refused() {
    let stderr = broken(|s| {
        let config = s.file("config.toml");
        s.write(
            "config.toml",
            format!("{config}\n[keywords]\npath = \"aux\"\n"),
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// Escaping in templates

/// Tera escapes only strings: a list printed with `{{ }}` and a `~` concatenation came out
/// raw. Every printed value of an HTML template is escaped now, whatever its type.
#[test]
fn lists_and_concatenations_printed_by_a_template_are_escaped() {
    let site = built_site();
    site.write(
        "templates/liste.html",
        "{{ page.extra.liste }}|{{ \"Titel: \" ~ page.title }}|{{ page.title }}\n",
    );
    replace_in(
        &site,
        "content/info.md",
        "title = \"Info\"",
        "title = \"<b>Info</b>\"\ntemplate = \"liste.html\"\n[extra]\nliste = [\"<script>alert(1)</script>\", \"&\"]",
    );
    site.build();
    assert_eq!(
        site.file("public/info/index.html"),
        "[&lt;script&gt;alert(1)&lt;/script&gt;, &amp;]|Titel: &lt;b&gt;Info&lt;/b&gt;|&lt;b&gt;Info&lt;/b&gt;\n"
    );
}

/// A listing's field of the same name may be HTML for one content type and text for
/// another: summaries carry `field_types`, and the site's matrix prints only markdown fields
/// as HTML.
#[test]
fn the_matrix_prints_text_fields_of_another_type_escaped() {
    let site = crate::harness::SiteTest::new("bad_input");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_tree(
        &repo.join("themes/default"),
        &site.root().join("themes/default"),
    );
    site.write(
        "templates/matrix.html",
        std::fs::read(repo.join("templates/matrix.html")).expect("read the matrix"),
    );
    site.write(
        "config.toml",
        "title = \"T\"\nbase_url = \"https://example.org/\"\ntheme = \"default\"\nsearch = false\n\
         [types.initiative.fields]\ninhalt = { type = \"markdown\", label = \"Inhalt\" }\n\
         [types.projekt.fields]\ninhalt = { type = \"text\", label = \"Inhalt\" }\n",
    );
    site.remove("content/projekte");
    site.remove("content/info.md");
    site.write(
        "content/initiativen/_index.md",
        "+++\ntitle = \"Initiativen\"\ntemplate = \"matrix.html\"\n+++\n",
    );
    site.write(
        "content/initiativen/eins/_index.md",
        "+++\ntitle = \"Eins\"\ntype = \"initiative\"\ninhalt = \"Markdown *ja*\"\n+++\n",
    );
    site.write(
        "content/initiativen/zwei/_index.md",
        "+++\ntitle = \"Zwei\"\ntype = \"projekt\"\ninhalt = \"<img src=x onerror=alert(1)>\"\n+++\n",
    );
    site.build();
    let page = site.file("public/initiativen/index.html");
    assert!(page.contains("<em>ja</em>"), "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    assert!(!page.contains("onerror=alert(1)>"), "{page}");
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create a folder");
    for entry in std::fs::read_dir(from).expect("read a folder") {
        let entry = entry.expect("read a folder entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Text fields

/// Combining accents with no letter to sit on show nothing legible: such a title or keyword
/// is refused like a blank one (the keyword became the page `/suchworte/03010301/`).
#[test]
fn titles_and_keywords_of_only_combining_accents_are_refused() {
    let title = broken(|s| {
        replace_in(
            s,
            "content/info.md",
            "title = \"Info\"",
            "title = \"\\u0301\\u0308\"",
        );
    });
    let keyword = broken(|s| {
        replace_in(
            s,
            "content/info.md",
            "suchworte = [\"Information\"]",
            "suchworte = [\"Information\", \"\\u0301\\u0302\"]",
        );
    });
    insta::assert_snapshot!(format!("{title}{keyword}"));
}

// ---------------------------------------------------------------------------------------------
// Relative links for the file share

/// A link under the base URL with `..` in its path leaves the site: made relative it climbed
/// out of the share's folder into the reader's disk (`../../../../etc/passwd`). It stays the
/// absolute URL the editor wrote.
#[test]
fn relative_links_with_dot_segments_stay_absolute() {
    let site = crate::harness::SiteTest::new("publish_relative");
    site.write(
        "content/punkte.md",
        "+++\ntitle = \"Punkte\"\n+++\n\n[a](https://intranet.example.org/ablage/../../../etc/passwd) \
         [b](https://intranet.example.org/ablage/%2E%2e/x) [c](https://intranet.example.org/ablage/impressum/)\n",
    );
    site.build_with(&["--target", "dateiablage"]);
    let page = site.file("dateiablage/punkte/index.html");
    assert!(
        page.contains("href=\"https://intranet.example.org/ablage/../../../etc/passwd\""),
        "{page}"
    );
    assert!(
        page.contains("href=\"https://intranet.example.org/ablage/%2E%2e/x\""),
        "{page}"
    );
    assert!(page.contains("href=\"../impressum/index.html\""), "{page}");
}
