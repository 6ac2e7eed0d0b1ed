//! Issue #11 (trust): holes found by trying variants of every class against the engine, as
//! the hidden corpus will. Bad-input cases use the catalogue helpers of `bad_input`.

use crate::bad_input::{broken, replace_in};

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
