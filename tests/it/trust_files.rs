//! Issue #11 (trust): files. Bad-input cases use the catalogue helpers of `bad_input`.
//!
//! What gets read (only regular files, only from inside the site) and what gets published (no
//! editor artefacts, no files of unpublished pages, no active content, only names every file
//! system can hold), the staging folders of killed builds, and `wegweiser new`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::bad_input::{broken, build_within, built_site, replace_in, symlink, temp_root};
use crate::harness::{dir_snapshot, SiteTest};

const LIMIT: Duration = Duration::from_secs(30);

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(ok.success(), "mkfifo {} failed", path.display());
}

/// A failing build that may meet files that block when read: run with a time limit, and
/// `public/` must stay as it was (the folder snapshot would block on a pipe, so only
/// `public/` and the leftovers are compared).
#[track_caller]
fn fails_within_limit(site: SiteTest) -> (SiteTest, String) {
    let public = site.snapshot_dir("public");
    let (site, run, _) = build_within(site, &[], LIMIT);
    assert_eq!(run.code(), 1, "stderr:\n{}", run.stderr());
    assert_eq!(site.snapshot_dir("public"), public, "public/ changed");
    site.assert_no_leftovers();
    let stderr = run.stderr().to_string();
    (site, stderr)
}

// ---------------------------------------------------------------------------------------------
// 1. Only regular files are read

#[test]
#[cfg(unix)]
fn named_pipe_as_config_toml_is_refused_without_hanging() {
    let site = built_site();
    site.remove("config.toml");
    mkfifo(&site.root().join("config.toml"));
    let (_site, stderr) = fails_within_limit(site);
    insta::assert_snapshot!(stderr);
}

#[test]
#[cfg(unix)]
fn named_pipes_and_sockets_anywhere_in_the_site_are_refused() {
    let site = built_site();
    let root = site.root().to_path_buf();
    mkfifo(&root.join("content/pipe.md"));
    mkfifo(&root.join("content/projekte/anlage.pdf"));
    std::fs::create_dir_all(root.join("static")).unwrap();
    mkfifo(&root.join("static/pipe.css"));
    mkfifo(&root.join("themes/test/templates/pipe.html"));
    mkfifo(&root.join("themes/test/static/pipe.js"));
    site.remove("themes/test/i18n/de.toml");
    mkfifo(&root.join("themes/test/i18n/de.toml"));
    let _socket = std::os::unix::net::UnixListener::bind(root.join("content/socket.md")).unwrap();
    let (_site, stderr) = fails_within_limit(site);
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// 2. Staging folders of killed builds

/// Leaves behind what a build killed while writing leaves: its temporary folder with files
/// and its (no longer locked) lock file.
fn leave_killed_build(site: &SiteTest, id: &str) {
    site.write(&format!(".public.tmp-build-{id}/index.html"), "halb fertig");
    site.write(&format!(".public.build-{id}.lock"), "");
}

#[test]
#[cfg(unix)]
fn staging_folders_of_killed_builds_are_removed_by_the_next_build() {
    let site = built_site();
    leave_killed_build(&site, "Ab12Cd");
    // Killed while removing the previous output, and one of an older version (no lock file).
    site.write(".public.old-Ab12Cd/alt.html", "alt");
    site.write(".public.old-4242/alt.html", "alt");
    site.write(".public.tmp-build-XyZ987/seite/index.html", "alt");
    // Killed just before removing its lock file.
    site.write(".public.build-QqQqQq.lock", "");
    // A link with a staging folder's name is removed as a link, never followed.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("wichtig.txt"), "bleibt").unwrap();
    symlink(outside.path(), site.root().join(".public.tmp-build-Link00"));
    site.build();
    site.assert_no_leftovers();
    assert_eq!(
        std::fs::read_to_string(outside.path().join("wichtig.txt")).unwrap(),
        "bleibt"
    );
}

#[test]
#[cfg(unix)]
fn staging_folder_of_a_running_build_is_kept() {
    let site = built_site();
    leave_killed_build(&site, "Live01");
    // The "running" build holds its lock, as a live wegweiser process does.
    let lock = std::fs::File::open(site.root().join(".public.build-Live01.lock")).unwrap();
    lock.lock().unwrap();
    site.build();
    assert_eq!(
        site.file(".public.tmp-build-Live01/index.html"),
        "halb fertig"
    );
    assert!(site.exists(".public.build-Live01.lock"));
    // Once that build has ended, its folder is stale.
    drop(lock);
    site.build();
    site.assert_no_leftovers();
}

#[test]
#[cfg(unix)]
fn a_build_killed_with_sigkill_leaves_nothing_after_the_next_build() {
    let site = built_site();
    // Enough pages that the build is still writing when it is killed.
    for i in 0..1500 {
        site.write(
            &format!("content/projekte/p{i}.md"),
            format!(
                "+++\ntitle = \"P {i}\"\ntype = \"projekt\"\ntraeger = \"T\"\n+++\nText {i}.\n"
            ),
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_wegweiser"))
        .args(["build", "--root"])
        .arg(site.root())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let staging = loop {
        let found = std::fs::read_dir(site.root()).unwrap().flatten().find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".public.tmp-build-")
        });
        if let Some(e) = found {
            break e.path();
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the build ended before its staging folder was seen"
        );
        assert!(started.elapsed() < LIMIT, "no staging folder appeared");
        std::thread::sleep(Duration::from_millis(1));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(staging.exists(), "the killed build left no folder to clean");
    site.build();
    site.assert_no_leftovers();
}

// ---------------------------------------------------------------------------------------------
// 3. Symbolic links never bring in files from outside the site

#[test]
#[cfg(unix)]
fn symbolic_links_out_of_the_site_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("geheim.txt");
    std::fs::write(&secret, "Kennwort: Walnuss").unwrap();
    std::fs::create_dir(outside.path().join("ordner")).unwrap();
    std::fs::write(outside.path().join("ordner/akte.pdf"), "%PDF Akte").unwrap();
    let stderr = broken(|s| {
        let root = s.root();
        std::fs::create_dir(root.join("static")).unwrap();
        symlink(&secret, root.join("content/projekte/anlage.txt"));
        symlink("/etc/passwd", root.join("content/passwd.txt"));
        symlink(
            outside.path().join("ordner"),
            root.join("content/projekte/ordner"),
        );
        // A chain: a link inside the site to a link that leads out.
        symlink(&secret, root.join("content/kette-2.txt"));
        symlink("../content/kette-2.txt", root.join("static/kette-1.txt"));
        // The site root itself: a link to a folder above its own.
        symlink("../../..", root.join("themes/test/static/oben"));
        symlink(&secret, root.join("themes/test/templates/geheim.html"));
        symlink(&secret, root.join("content/seite.md"));
    });
    let stderr = stderr.replace(
        &outside.path().canonicalize().unwrap().display().to_string(),
        "[OUTSIDE]",
    );
    insta::assert_snapshot!(stderr);
}

#[test]
#[cfg(unix)]
fn a_link_to_a_folder_above_the_site_does_not_hang_or_publish_it() {
    let site = built_site();
    symlink("../..", site.root().join("content/projekte/oben"));
    let (site, stderr) = fails_within_limit(site);
    assert!(
        stderr.contains("content/projekte/oben: error: symbolic link to"),
        "{stderr}"
    );
    assert!(!site.exists("public/projekte/oben"));
}

#[test]
#[cfg(unix)]
fn symbolic_links_inside_the_site_keep_working() {
    let site = SiteTest::new("bad_input");
    site.write("static/logo.txt", "Logo");
    symlink(
        "../../static/logo.txt",
        site.root().join("content/projekte/logo.txt"),
    );
    site.build();
    assert_eq!(site.file("public/projekte/logo.txt"), "Logo");
}

// ---------------------------------------------------------------------------------------------
// 4. Editor artefacts are never published

const ARTEFACTS: [&str; 14] = [
    "info.md.bak",
    "info.md~",
    "#info.md#",
    ".info.md.swp",
    "info.md.swo",
    ".DS_Store",
    "Thumbs.db",
    "desktop.ini",
    "bild.png.tmp",
    "~$bericht.docx",
    "info.md.orig",
    "BILD.PNG.BAK",
    "download.pdf.part",
    "._info.md",
];

#[test]
#[cfg(unix)]
fn editor_artefacts_are_never_published() {
    let site = SiteTest::new("bad_input");
    for dir in [
        "content",
        "content/projekte",
        "static",
        "themes/test/static",
    ] {
        for name in ARTEFACTS {
            site.write(&format!("{dir}/{name}"), "Sicherung");
        }
    }
    // Emacs' lock file: a symbolic link to nowhere.
    symlink(
        "editor@rechner.4242:1700000000",
        site.root().join("content/.#info.md"),
    );
    let run = site.build();
    assert!(run.stderr().starts_with("built "), "{}", run.stderr());
    let published: Vec<String> = site
        .files("public")
        .into_iter()
        .filter(|f| ARTEFACTS.iter().any(|a| f.ends_with(a)) || f.contains("#info"))
        .collect();
    assert!(published.is_empty(), "published: {published:?}");
}

// ---------------------------------------------------------------------------------------------
// 5. Files take the visibility of their page or section

/// `sites/publish` with files beside unpublished pages: `themen/geheim.md` is internal,
/// `themen/entwurf.md` a draft, `akte/` an internal bundle.
fn publish_with_files() -> SiteTest {
    let site = SiteTest::new("publish");
    site.write("content/themen/geheim.pdf", "%PDF geheim");
    site.write("content/themen/geheim.md.orig", "Sicherung");
    site.write("content/themen/geheim.de.pdf", "%PDF geheim de");
    site.write("content/themen/geheim/anlage.pdf", "%PDF Anlage");
    site.write(
        "content/themen/entwurf.md",
        "+++\ntitle = \"Entwurf\"\ndraft = true\nbetrag = \"1,00 DM\"\n+++\nNoch nicht.\n",
    );
    site.write("content/themen/entwurf.pdf", "%PDF Entwurf");
    site.write(
        "content/akte/index.md",
        "+++\ntitle = \"Akte\"\nintern = true\n+++\nAkte.\n",
    );
    site.write("content/akte/bilder/foto.png", "PNG");
    site.write("content/themen/offen.pdf", "%PDF offen");
    site.write("content/themen/liste.pdf", "%PDF Liste der Themen");
    site
}

const UNPUBLISHED: [&str; 5] = [
    "themen/geheim.pdf",
    "themen/geheim.de.pdf",
    "themen/geheim/anlage.pdf",
    "themen/entwurf.pdf",
    "akte/bilder/foto.png",
];

#[test]
fn files_of_internal_pages_and_drafts_stay_out_of_the_internet_target() {
    let site = publish_with_files();
    site.build_with(&["--target", "internet"]);
    for f in UNPUBLISHED {
        assert!(!site.exists(&format!("public/{f}")), "{f} was published");
    }
    // Files of public pages and of the section are published.
    assert!(site.exists("public/themen/offen.pdf"));
    assert!(site.exists("public/themen/liste.pdf"));
    assert!(!site.exists("public/themen/geheim.md.orig"));
}

#[test]
fn files_of_internal_pages_are_published_in_the_intranet_and_drafts_with_drafts() {
    let site = publish_with_files();
    site.build_with(&["--target", "intranet", "--drafts"]);
    for f in UNPUBLISHED {
        assert!(
            site.exists(&format!("ausgabe/intranet/{f}")),
            "{f} is missing"
        );
    }
    site.build_with(&["--target", "intranet"]);
    assert!(!site.exists("ausgabe/intranet/themen/entwurf.pdf"));
    assert!(site.exists("ausgabe/intranet/themen/geheim.pdf"));
}

// ---------------------------------------------------------------------------------------------
// 6. Active content in SVG and HTML files

const SVG_SCRIPT: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">
  <rect width="10" height="10"/>
  <script>alert(document.cookie)</script>
  <circle r="4" onload="alert(1)"/>
  <foreignObject><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject>
  <a href="javascript:alert(1)"><text>Klick</text></a>
</svg>
"#;

const SVG_PLAIN: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">
  <defs><linearGradient id="v"><stop offset="0" stop-color="#fff"/></linearGradient></defs>
  <rect width="10" height="10" style="fill:url(#v)"/>
  <use xlink:href="#v"/>
</svg>
"##;

#[test]
fn svg_and_html_files_with_active_content_are_refused() {
    let stderr = broken(|s| {
        s.write("content/projekte/karte.svg", SVG_SCRIPT);
        s.write(
            "content/projekte/KARTE2.SVG",
            "<svg><set attributeName=\"href\"/></svg>",
        );
        s.write("content/projekte/seite.html", "<script>alert(1)</script>");
        s.write("content/projekte/seite.XHTML", "<html/>");
        s.write("content/projekte/karte.svgz", "\x1f\u{8b}");
        s.write("content/daten.xml", "<daten/>");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn plain_svg_is_published_and_static_files_are_the_publishers() {
    let site = SiteTest::new("bad_input");
    site.write("content/projekte/karte.svg", SVG_PLAIN);
    site.write("static/theme-icon.svg", SVG_SCRIPT);
    site.build();
    assert_eq!(site.file("public/projekte/karte.svg"), SVG_PLAIN);
    assert_eq!(site.file("public/theme-icon.svg"), SVG_SCRIPT);
}

#[test]
fn trusted_html_lets_editors_publish_svg_and_html_as_they_are() {
    let site = SiteTest::new("bad_input");
    replace_in(
        &site,
        "config.toml",
        "search = false\n",
        "search = false\n\n[markdown]\ntrusted_html = true\n",
    );
    site.write("content/projekte/karte.svg", SVG_SCRIPT);
    site.write("content/projekte/seite.html", "<script>alert(1)</script>");
    site.build();
    assert_eq!(site.file("public/projekte/karte.svg"), SVG_SCRIPT);
}

// ---------------------------------------------------------------------------------------------
// 7. Names every file system can hold

#[test]
fn windows_device_names_and_overlong_names_are_refused() {
    let stderr = broken(|s| {
        s.write("content/con.md", "+++\ntitle = \"Konsole\"\n+++\n");
        s.write(
            "content/aux-seite.md",
            "+++\ntitle = \"Hilfe\"\nslug = \"AUX\"\n+++\n",
        );
        s.write("content/lpt1/seite.md", "+++\ntitle = \"Drucker\"\n+++\n");
        s.write(
            "content/lang.md",
            format!(
                "+++\ntitle = \"Lang\"\nslug = \"{}\"\n+++\n",
                "a".repeat(300)
            ),
        );
        s.write("content/projekte/nul.txt", "nichts");
        s.write("content/projekte/Com1.tar.gz", "nichts");
        s.write("content/projekte/frage?.pdf", "nichts");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn overlong_output_path_is_refused() {
    // Six folders of 200 bytes: every name fits, the whole path (over 1024 bytes) does not.
    let deep = vec!["o".repeat(200); 6].join("/");
    let stderr = broken(|s| {
        s.write(
            &format!("content/{deep}/seite.md"),
            "+++\ntitle = \"Tief\"\n+++\n",
        );
    });
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("content/{deep}/seite.md:1:1: error: URL /ooo")),
        "{stderr}"
    );
    assert!(
        first.ends_with(
            "cannot be written: the output path is 1222 bytes long; at most 1024 are allowed"
        ),
        "{stderr}"
    );
}

#[test]
fn keyword_named_like_a_windows_device_is_refused() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/info.md",
            "suchworte = [\"Information\"]",
            "suchworte = [\"Information\", \"Con\"]",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// 8. Small holes: `new` and Markdown under another extension

#[test]
fn new_page_without_a_name_is_refused() {
    let site = SiteTest::new("bad_input");
    let before = dir_snapshot(temp_root(&site));
    for name in ["", "content/", "projekte/.md", "projekte/.versteckt", "nul"] {
        let run = site.run(&["new", "page", name]);
        assert_eq!(run.code(), 2, "{name:?}: {}", run.stderr());
        assert!(
            run.stderr().contains("cannot be a page"),
            "{name:?}: {}",
            run.stderr()
        );
    }
    assert_eq!(dir_snapshot(temp_root(&site)), before);
    let run = site.run(&["new", "page", ""]);
    insta::assert_snapshot!(run.stderr());
}

#[test]
#[cfg(unix)]
fn new_does_not_write_through_a_link_out_of_content() {
    let site = SiteTest::new("bad_input");
    let outside = tempfile::tempdir().unwrap();
    symlink(outside.path(), site.root().join("content/extern"));
    symlink(
        outside.path().join("neu.md"),
        site.root().join("content/neu.md"),
    );
    let run = site.run(&["new", "page", "extern/seite"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    insta::assert_snapshot!(run.stderr());
    let run = site.run(&["new", "page", "neu"]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(run.stderr().contains("exists already"), "{}", run.stderr());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn markdown_files_with_another_extension_are_errors() {
    let stderr = broken(|s| {
        s.write("content/seite.MD", "+++\ntitle = \"Seite\"\n+++\n");
        s.write(
            "content/projekte/notiz.Markdown",
            "+++\ntitle = \"Notiz\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}
