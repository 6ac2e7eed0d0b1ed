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
