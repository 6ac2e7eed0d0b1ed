//! The bad-input catalogue: broken, hostile and odd input, each case with its exact message
//! (snapshots in snapshots/, the site root shown as `[ROOT]`), exit code 1 (2 for a bad flag)
//! and, for every failing build, a previous `public/` left byte for byte as it was, no
//! leftovers and nothing written anywhere in the test's temporary folder.
//!
//! Most cases build the valid `bad_input` site, break one thing and build again. Together
//! with `errors.rs`, `links.rs`, `keywords.rs` and `publish.rs` this is the full catalogue.
//! Cases marked `#[ignore = "engine bug: …"]` fail today and describe the bug.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{dir_snapshot, Run, SiteTest};

/// The `bad_input` site after a successful first build.
pub(crate) fn built_site() -> SiteTest {
    let site = SiteTest::new("bad_input");
    site.build();
    site
}

/// Builds the `bad_input` site, applies `breakage`, and returns the stderr of the failing
/// rebuild (exit code 1, `public/` untouched, nothing changed anywhere in the temporary folder).
pub(crate) fn broken(breakage: impl FnOnce(&SiteTest)) -> String {
    let site = built_site();
    breakage(&site);
    fails_cleanly(&site)
}

/// `build` must fail with exit code 1 and change nothing at all: `build_fails_cleanly` checks
/// `public/` and leftovers and that `check` fails the same way, and the whole temporary folder
/// around the site (which holds everything a test writes) must be the same before and after.
#[track_caller]
pub(crate) fn fails_cleanly(site: &SiteTest) -> String {
    let before = dir_snapshot(temp_root(site));
    let run = site.build_fails_cleanly();
    assert_eq!(
        dir_snapshot(temp_root(site)),
        before,
        "the failed build changed files"
    );
    run.stderr().to_string()
}

/// `build ARGS` must exit with `code` and change nothing in the temporary folder; a previous
/// `public/` (if any) stays byte for byte the same; `check ARGS` fails the same way.
#[track_caller]
pub(crate) fn fails_cleanly_with(site: &SiteTest, args: &[&str], code: i32) -> String {
    let run = fails_cleanly_unchecked(site, args, code);
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let before = dir_snapshot(temp_root(site));
    site.assert_check_agrees(&all, &run);
    assert_eq!(
        dir_snapshot(temp_root(site)),
        before,
        "`check` changed files"
    );
    run.stderr().to_string()
}

/// Like [`fails_cleanly_with`] without comparing `check`: only for failures of the disk write
/// itself (full disk, read-only file system), which `check` cannot see.
#[track_caller]
pub(crate) fn write_fails_cleanly_with(site: &SiteTest, args: &[&str], code: i32) -> String {
    fails_cleanly_unchecked(site, args, code)
        .stderr()
        .to_string()
}

#[track_caller]
fn fails_cleanly_unchecked(site: &SiteTest, args: &[&str], code: i32) -> Run {
    let before = dir_snapshot(temp_root(site));
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let run = site.run(&all);
    assert_eq!(run.code(), code, "stderr:\n{}", run.stderr());
    assert_eq!(
        dir_snapshot(temp_root(site)),
        before,
        "the failed build changed files"
    );
    site.assert_no_leftovers();
    run
}

/// The temporary folder holding the site (`<tmp>/site`).
pub(crate) fn temp_root(site: &SiteTest) -> &Path {
    site.root().parent().expect("the site has a parent folder")
}

pub(crate) fn replace_in(site: &SiteTest, rel: &str, from: &str, to: &str) {
    let text = site.file(rel);
    assert!(text.contains(from), "{rel} has no {from:?}");
    site.write(rel, text.replace(from, to));
}

/// Whether each of these paths outside the test's folder exists (a build must not change it).
pub(crate) fn exists_outside(paths: &[&str]) -> Vec<(String, bool)> {
    paths
        .iter()
        .map(|p| (p.to_string(), Path::new(p).exists()))
        .collect()
}

/// Runs `build ARGS` on another thread and fails the test if it takes longer than `limit`
/// (a hang, e.g. following a symbolic link loop forever).
pub(crate) fn build_within(
    site: SiteTest,
    args: &[&str],
    limit: Duration,
) -> (SiteTest, Run, Duration) {
    let mut all = vec!["build".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = Instant::now();
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        let run = site.run(&args);
        let _ = tx.send((site, run, started.elapsed()));
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("wegweiser build did not finish within {limit:?}"))
}

#[cfg(unix)]
pub(crate) fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).expect("create a symbolic link");
}

// ---------------------------------------------------------------------------------------------
// Front matter

#[test]
fn duplicate_key_in_front_matter() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\ntitle = \"Noch einmal Info\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn front_matter_with_nothing_between_the_delimiters() {
    let stderr = broken(|s| {
        s.write("content/info.md", "+++\n+++\nNur Text.\n");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn impossible_dates() {
    // A TOML date (a TOML error) and a date in quotes (checked by wegweiser).
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\ndate = 2001-02-30\n+++\n",
        );
        s.write(
            "content/zwei.md",
            "+++\ntitle = \"Zwei\"\nupdated = \"2001-02-30\"\n+++\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn money_not_in_german_notation() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/projekte/alpha.md",
            "\"144.000,00 DM\"",
            "\"144,000.00 DM\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn typed_date_field_with_a_wrong_type() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/projekte/alpha.md",
            "beginn = 2001-01-06",
            "beginn = \"Januar 2001\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn negative_paginate_by() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/projekte/_index.md",
            "sort_by = \"title\"",
            "sort_by = \"title\"\npaginate_by = -1",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_sort_by() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/projekte/_index.md",
            "sort_by = \"title\"",
            "sort_by = \"datum\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn template_that_does_not_exist_on_a_section() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/projekte/_index.md",
            "sort_by = \"title\"",
            "sort_by = \"title\"\ntemplate = \"gibtsnicht.html\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// Markdown

#[test]
fn unknown_extra_placeholder() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/info.md",
            "{{ extra.herausgeber }}",
            "{{ extra.herausgeber }}, {{ extra.unknown }}",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn link_without_text_is_an_error() {
    // The image without alt text in the same file is only a warning, reported with the errors.
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\n+++\n![](karte.png)\n\nZur [](@/_index.md) und [ ](https://example.org/).\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn image_without_alt_text_is_a_warning_only() {
    let site = built_site();
    site.write(
        "content/info.md",
        "+++\ntitle = \"Info\"\n+++\nDie Karte: ![](karte.png)\n",
    );
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "\
content/info.md:4:12: warning: image without alt text
  |
4 | Die Karte: ![](karte.png)
  |            ^
  = hint: describe what the image shows: ![Beschreibung](bild.png)
built 2 pages, 2 sections, 0 keywords: 9 files in [ROOT]/public
"
    );
    site.assert_no_leftovers();
}

// ---------------------------------------------------------------------------------------------
// Configuration and theme

#[test]
fn required_must_be_a_boolean_in_config() {
    let stderr = broken(|s| {
        replace_in(s, "config.toml", "required = true", "required = \"yes\"");
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn base_url_with_a_query_string_in_config() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "config.toml",
            "base_url = \"https://example.org/\"",
            "base_url = \"https://example.org/portal/?lang=de\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn config_toml_is_a_directory() {
    let stderr = broken(|s| {
        s.remove("config.toml");
        std::fs::create_dir(s.root().join("config.toml")).unwrap();
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn syntax_error_in_a_theme_template() {
    // In the theme itself, not in an override of the site.
    let stderr = broken(|s| {
        s.write(
            "themes/test/templates/section.html",
            "template: section.html\ntitle: {{ section.title }}\n{% for p in section.pages %}\n  {{ p.title }\n{% endfor %}\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// Path traversal: nothing may be written outside the output folder

#[test]
fn absolute_slug_is_refused() {
    let outside = exists_outside(&["/etc/index.html"]);
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/info.md",
            "title = \"Info\"",
            "title = \"Info\"\nslug = \"/etc\"",
        );
    });
    assert_eq!(exists_outside(&["/etc/index.html"]), outside);
    insta::assert_snapshot!(stderr);
}

#[test]
fn dot_dot_slug_is_refused() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/projekte/alpha.md",
            "title = \"Projekt Alpha\"",
            "title = \"Projekt Alpha\"\nslug = \"..\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn slug_climbing_through_a_folder_is_refused() {
    let stderr = broken(|s| {
        replace_in(
            s,
            "content/info.md",
            "title = \"Info\"",
            "title = \"Info\"\nslug = \"a/../../b\"",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn slugs_that_are_no_url_segment_are_refused() {
    let stderr = broken(|s| {
        for (name, slug) in [("eins", "."), ("zwei", "~"), ("drei", "C:\\\\windows")] {
            s.write(
                &format!("content/{name}.md"),
                format!("+++\ntitle = \"{name}\"\nslug = \"{slug}\"\n+++\n"),
            );
        }
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn markdown_links_climbing_out_of_content() {
    let stderr = broken(|s| {
        s.write(
            "content/projekte/beta.md",
            "+++\ntitle = \"Beta\"\ntraeger = \"Kreis\"\n+++\n\
             [Passwörter](@/../../etc/passwd.md) und [relativ](../../../etc/passwd.md).\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn section_outputs_outside_the_section_are_refused() {
    let outside = exists_outside(&["/x.csv", "/etc/x.csv"]);
    let stderr = broken(|s| {
        s.write("templates/x.csv", "{{ section.title }}\n");
        replace_in(
            s,
            "content/projekte/_index.md",
            "sort_by = \"title\"",
            "sort_by = \"title\"\noutputs = [\"../x.csv\", \"/etc/x.csv\", \".htaccess\", \"a/x.csv\"]",
        );
    });
    assert_eq!(exists_outside(&["/x.csv", "/etc/x.csv"]), outside);
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// Command line: output folder and site root

#[test]
fn output_dir_root_is_refused() {
    let site = built_site();
    let stderr = fails_cleanly_with(&site, &["--output-dir", "/"], 1);
    insta::assert_snapshot!(stderr);
}

#[test]
fn root_pointing_at_a_file() {
    let site = built_site();
    let file = site.root().join("config.toml");
    let stderr = fails_cleanly_with(&site, &["--root", file.to_str().unwrap()], 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn output_dir_whose_parent_is_a_file() {
    // Fails for root too, unlike a read-only folder.
    let site = built_site();
    site.write("ablage", "eine Datei, kein Ordner\n");
    let stderr = fails_cleanly_with(&site, &["--output-dir", "ablage/public"], 1);
    insta::assert_snapshot!(stderr);
}

#[test]
fn output_dir_that_is_a_file() {
    let site = built_site();
    site.write("ablage", "eine Datei, kein Ordner\n");
    let stderr = fails_cleanly_with(&site, &["--output-dir", "ablage"], 1);
    insta::assert_snapshot!(stderr);
}

#[test]
fn base_url_flag_with_a_query_string() {
    // A bad flag value is a usage error: exit code 2.
    let site = built_site();
    let stderr = fails_cleanly_with(
        &site,
        &["--base-url", "https://example.org/portal/?lang=de"],
        2,
    );
    insta::assert_snapshot!(stderr);
}

#[test]
fn output_dir_reaching_content_through_dot_dot_is_refused() {
    let site = built_site();
    let content = site.snapshot_dir("content");
    let stderr = fails_cleanly_with(&site, &["--output-dir", "public/../content"], 1);
    assert_eq!(site.snapshot_dir("content"), content);
    assert_eq!(
        stderr,
        "\
error: refusing to use `public/../content` as the output directory
caused by: it would replace the site's own files
hint: choose a separate folder such as public/
"
    );
}

#[test]
fn output_dir_ending_in_dot_dot_is_refused() {
    let site = built_site();
    let stderr = fails_cleanly_with(&site, &["--output-dir", "content/neu/.."], 1);
    assert!(!site.exists("content/neu"));
    assert_eq!(
        stderr,
        "\
error: refusing to use `content/neu/..` as the output directory
caused by: it would replace the site's own files
hint: choose a separate folder such as public/
"
    );
}

#[test]
#[cfg(unix)]
fn output_dir_symlink_into_the_site_is_refused() {
    let site = built_site();
    symlink("content", site.root().join("ausgabe"));
    let content = site.snapshot_dir("content");
    let stderr = fails_cleanly_with(&site, &["--output-dir", "ausgabe"], 1);
    assert_eq!(site.snapshot_dir("content"), content);
    assert_eq!(
        stderr,
        "\
error: refusing to use `ausgabe` as the output directory
caused by: it is a symbolic link (replacing it would empty the folder it points to)
hint: pass the folder it points to, or a separate folder such as public/
"
    );
}

/// Unmounts a test file system when the test ends, also when it fails.
struct Mounted(PathBuf);

impl Mounted {
    /// Mounts a tmpfs of `size` (e.g. "256k") at `vol` in the site; `None` where mounting is
    /// not allowed (it needs root): then the calling test fails in CI and is skipped with a
    /// note elsewhere.
    fn tmpfs(site: &SiteTest, vol: &str, size: &str) -> Option<Mounted> {
        let path = site.root().join(vol);
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            crate::harness::cannot_run(
                "a test on a small or read-only file system",
                "cannot mount a tmpfs here (needs root)",
            );
            return None;
        }
        Some(Mounted(path))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

#[test]
fn full_disk_leaves_the_previous_output() {
    // A 256 KiB tmpfs as the output's file system; needs mount privileges (root in this
    // sandbox), so outside CI the case is skipped where mounting fails.
    let site = SiteTest::new("bad_input");
    let Some(mounted) = Mounted::tmpfs(&site, "vol", "256k") else {
        return;
    };
    let vol = mounted.0.clone();
    site.build_with(&["--output-dir", "vol/public"]);
    let before = site.snapshot_dir("vol/public");
    // More than the whole file system holds.
    site.write("static/gross.bin", vec![0x5a_u8; 400 * 1024]);
    let run = site.run(&["build", "--output-dir", "vol/public"]);
    assert_eq!(run.code(), 1, "stderr:\n{}", run.stderr());
    assert_eq!(site.snapshot_dir("vol/public"), before);
    let left: Vec<String> = std::fs::read_dir(&vol)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["public"], "left behind on the full disk");
    site.assert_no_leftovers();
    insta::assert_snapshot!(run.stderr());
}

#[test]
fn read_only_output_location_leaves_the_previous_output() {
    // The output's file system is remounted read-only after a first build. Root ignores file
    // permissions, so a read-only mount is the only way to test this as root; needs mount
    // privileges, so outside CI the case is skipped where mounting fails.
    let site = SiteTest::new("bad_input");
    let Some(mounted) = Mounted::tmpfs(&site, "vol", "4m") else {
        return;
    };
    let vol = mounted.0.clone();
    site.build_with(&["--output-dir", "vol/public"]);
    let before = site.snapshot_dir("vol/public");
    let read_only = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&vol)
        .status()
        .is_ok_and(|s| s.success());
    assert!(read_only, "remounting read-only failed");
    site.write("content/info.md", "+++\ntitle = \"Info, neu\"\n+++\nNeu.\n");
    // A write failure: `check` cannot see it, so it is not compared.
    let stderr = write_fails_cleanly_with(&site, &["--output-dir", "vol/public"], 1);
    assert_eq!(site.snapshot_dir("vol/public"), before);
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------------------------
// Files on disk: links, encodings, binary data, line endings, Unicode forms

#[test]
#[cfg(unix)]
fn symbolic_link_loop_is_reported_without_hanging() {
    let site = built_site();
    // content/schleife -> content
    symlink(
        site.root().join("content"),
        site.root().join("content/schleife"),
    );
    let before = dir_snapshot(temp_root(&site));
    let public = site.snapshot_dir("public");
    let (site, run, _) = build_within(site, &[], Duration::from_secs(30));
    assert_eq!(run.code(), 1, "stderr:\n{}", run.stderr());
    assert_eq!(site.snapshot_dir("public"), public);
    assert_eq!(dir_snapshot(temp_root(&site)), before);
    site.assert_no_leftovers();
    insta::assert_snapshot!(run.stderr());
}

#[test]
#[cfg(unix)]
fn two_symbolic_links_pointing_at_each_other() {
    let stderr = broken(|s| {
        symlink("zwei.md", s.root().join("content/eins.md"));
        symlink("eins.md", s.root().join("content/zwei.md"));
    });
    insta::assert_snapshot!(stderr);
}

#[test]
#[cfg(unix)]
fn dangling_symbolic_link() {
    let stderr = broken(|s| {
        symlink("gibt-es-nicht.md", s.root().join("content/verweis.md"));
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn markdown_file_with_nul_bytes_is_binary() {
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            b"+++\ntitle = \"Info\"\n+++\nText\0\0\0mit Nullbytes.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn binary_file_that_is_not_utf8_is_called_binary() {
    let stderr = broken(|s| {
        // A 1×1 GIF: NUL bytes before the first byte that is not UTF-8 (0x80), no newline.
        let gif: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
        s.write("content/karte.md", gif);
    });
    assert!(
        !stderr.contains(|c: char| c.is_control() && c != '\n'),
        "control characters in the message: {stderr:?}"
    );
    assert_eq!(
        stderr,
        "\
content/karte.md: error: file is binary, not text
  = hint: only Markdown text files belong here; move images and PDFs into a page bundle folder
error: build failed with 1 error; nothing was written
"
    );
}

#[test]
fn latin1_umlaut_in_the_body_has_the_right_column() {
    let stderr = broken(|s| {
        // "Straße" in UTF-8 ("ß" is two bytes), then "Größe" in Latin-1: column 14 is the ö.
        s.write(
            "content/info.md",
            b"+++\ntitle = \"Info\"\n+++\nText.\n\nStra\xc3\x9fe und Gr\xf6\xdfe.\n",
        );
    });
    insta::assert_snapshot!(stderr);
}

#[test]
fn byte_order_mark_keeps_positions_and_builds_once_fixed() {
    let site = built_site();
    site.write(
        "content/info.md",
        "\u{feff}+++\ntitle = \"Info mit BOM\"\nweight = \"drei\"\n+++\nText.\n",
    );
    insta::assert_snapshot!(fails_cleanly(&site));
    replace_in(&site, "content/info.md", "\"drei\"", "3");
    site.build();
    assert_eq!(site.line("public/info/index.html", "title"), "Info mit BOM");
}

#[test]
fn crlf_line_endings_keep_lines_and_columns_and_build_once_fixed() {
    let site = built_site();
    // A front matter error, then (content errors stop the build before links are checked)
    // a broken link after a non-ASCII character.
    site.write(
        "content/info.md",
        "+++\r\ntitle = \"Info\"\r\nweight = \"drei\"\r\n+++\r\nText.\r\n",
    );
    insta::assert_snapshot!("crlf_front_matter", fails_cleanly(&site));
    replace_in(&site, "content/info.md", "\"drei\"", "3");
    site.write(
        "content/zwei.md",
        "+++\r\ntitle = \"Zwei\"\r\n+++\r\nErste Zeile.\r\n\r\nZurück zu [Übersicht](@/uebersicht.md).\r\n",
    );
    insta::assert_snapshot!("crlf_body", fails_cleanly(&site));
    replace_in(&site, "content/zwei.md", "@/uebersicht.md", "@/info.md");
    site.build();
    assert_eq!(site.line("public/zwei/index.html", "title"), "Zwei");
    assert!(!site.file("public/zwei/index.html").contains('\r'));
}

const NFD_UE: &str = "U\u{308}bersicht";
const NFD_AE: &str = "A\u{308}mter";

#[test]
fn nfd_file_names_and_keywords_build_like_nfc() {
    let site = built_site();
    // A file and a folder named in NFD (as macOS writes them), a keyword in NFD and in NFC.
    site.write(
        &format!("content/{NFD_UE}-{NFD_AE}.md"),
        format!("+++\ntitle = \"Übersicht\"\nsuchworte = [\"{NFD_AE}\"]\n+++\n"),
    );
    site.write(
        "content/Gru\u{308}n/_index.md",
        "+++\ntitle = \"Grün\"\nsuchworte = [\"Ämter\"]\n+++\n",
    );
    let run = site.build();
    assert_eq!(
        run.stderr(),
        "built 3 pages, 3 sections, 2 keywords: 13 files in [ROOT]/public\n"
    );
    let page = "public/uebersicht-aemter/index.html";
    assert_eq!(site.line(page, "path"), "/uebersicht-aemter/");
    assert_eq!(site.titles(page, "suchworte"), "Ämter (2)");
    assert_eq!(site.line("public/gruen/index.html", "path"), "/gruen/");
    assert!(site.exists("public/suchworte/aemter/index.html"));
    site.assert_no_leftovers();
}

#[test]
fn nfc_link_to_an_nfd_file_name() {
    let site = built_site();
    site.write(
        &format!("content/{NFD_UE}-{NFD_AE}.md"),
        "+++\ntitle = \"Übersicht\"\n+++\n",
    );
    replace_in(
        &site,
        "content/info.md",
        "## Herausgeber",
        "Zur [Übersicht](@/Übersicht-Ämter.md).\n\n## Herausgeber",
    );
    site.build();
    assert!(site
        .file("public/info/index.html")
        .contains("href=\"https://example.org/uebersicht-aemter/\""));
}

// ---------------------------------------------------------------------------------------------
// Size: a huge page and a deep tree

#[cfg(unix)]
fn children_peak_rss_bytes() -> u64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0);
    // Kilobytes on Linux.
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

#[test]
fn fifty_megabyte_page_builds_in_bounded_time_and_memory() {
    let site = built_site();
    let path = site.root().join("content/gross.md");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(b"+++\ntitle = \"Gro\xc3\x9f\"\n+++\n").unwrap();
    let para = "Die Beschäftigungsinitiative fördert regionale Modellprojekte mit Beratung, \
                Qualifizierung und Vermittlung in Arbeit. "
        .repeat(8)
        + "\n\n";
    let mut written = 0;
    let mut i = 0;
    while written < 50 * 1024 * 1024 {
        if i % 500 == 0 {
            let h = format!("## Abschnitt {i}\n\n");
            f.write_all(h.as_bytes()).unwrap();
            written += h.len();
        }
        f.write_all(para.as_bytes()).unwrap();
        written += para.len();
        i += 1;
    }
    f.flush().unwrap();
    drop(f);
    let (site, run, took) = build_within(site, &[], Duration::from_secs(60));
    let run = run.success();
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(
        run.stderr()
            .starts_with("built 3 pages, 2 sections, 1 keyword: "),
        "{}",
        run.stderr()
    );
    let html = site.root().join("public/gross/index.html");
    assert!(std::fs::metadata(&html).unwrap().len() > 50 * 1024 * 1024);
    assert_eq!(site.line("public/gross/index.html", "title"), "Groß");
    #[cfg(unix)]
    {
        // The largest child of this test process so far; an upper bound for this build.
        let peak = children_peak_rss_bytes();
        assert!(peak < 2 << 30, "peak memory {} MiB", peak >> 20);
    }
    site.assert_no_leftovers();
}

/// Peak memory of one `wegweiser build` of `root` (its own, not that of other tests' children).
#[cfg(unix)]
// The child is reaped by `wait4` below, which also reports its own peak (std's wait does not).
#[allow(clippy::zombie_processes)]
fn build_peak_rss_bytes(root: &Path) -> u64 {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_wegweiser"))
        .args(["build", "--root"])
        .arg(root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start wegweiser");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: wait4 only writes into the two values we pass; the child is ours and not waited
    // for elsewhere (`child` is dropped without a wait).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the build failed"
    );
    // Kilobytes on Linux.
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

/// A build frees each page's source text once its HTML is made, so the texts and the HTML are
/// not all in memory at the end. Measured on 91 MiB of sources: 164-167 MiB peak when the
/// texts are freed, 221 MiB when they are kept (the regression this catches: the parse and
/// resolve memos of a one-off build held every document, so every text stayed; a 10,000-page
/// build took ~90 MB more). The bound lies between the two.
#[cfg(unix)]
#[test]
fn a_build_frees_each_source_text_once_rendered() {
    let site = built_site();
    let para = "Die Beschäftigungsinitiative fördert regionale Modellprojekte mit Beratung, \
                Qualifizierung und Vermittlung in Arbeit. "
        .repeat(8)
        + "\n\n";
    let body = para.repeat(250);
    let pages = 400;
    site.write("content/gross/_index.md", "+++\ntitle = \"Groß\"\n+++\n");
    for i in 0..pages {
        site.write(
            &format!("content/gross/seite-{i}.md"),
            format!("+++\ntitle = \"Seite {i}\"\n+++\n{body}"),
        );
    }
    let sources = (pages * body.len()) as u64;
    let peak = build_peak_rss_bytes(site.root());
    assert!(
        peak < sources * 17 / 8,
        "peak memory {} MiB for {} MiB of sources",
        peak >> 20,
        sources >> 20
    );
    assert!(site.exists("public/gross/seite-399/index.html"));
}

#[test]
fn two_hundred_nested_sections() {
    let site = built_site();
    let mut dir = String::from("content");
    for i in 1..=200 {
        dir.push_str(&format!("/s{i}"));
        site.write(
            &format!("{dir}/_index.md"),
            format!("+++\ntitle = \"Ebene {i}\"\n+++\n"),
        );
    }
    site.write(
        &format!("{dir}/blatt.md"),
        "+++\ntitle = \"Blatt\"\n+++\nGanz nach [oben](@/s1/_index.md).\n",
    );
    let (site, run, _) = build_within(site, &[], Duration::from_secs(60));
    let run = run.success();
    assert_eq!(
        run.stderr(),
        "built 3 pages, 202 sections, 1 keyword: 211 files in [ROOT]/public\n"
    );
    let url: String = (1..=200).map(|i| format!("s{i}/")).collect();
    let deepest = format!("public/{url}index.html");
    assert_eq!(site.line(&deepest, "path"), format!("/{url}"));
    let crumbs = site.titles(&deepest, "breadcrumbs");
    assert_eq!(
        crumbs.split(" | ").count(),
        200,
        "Start, Ebene 1 … Ebene 199"
    );
    assert!(crumbs.ends_with("Ebene 198 | Ebene 199"), "{crumbs}");
    let leaf = format!("public/{url}blatt/index.html");
    assert_eq!(site.line(&leaf, "path"), format!("/{url}blatt/"));
    assert_eq!(site.titles("public/s1/index.html", "all_pages"), "Blatt");
    assert_eq!(
        site.titles("public/s1/index.html", "subsections"),
        "Ebene 2"
    );
    site.assert_no_leftovers();
}

#[test]
fn script_url_in_a_markdown_link() {
    // Raw HTML is sanitised; a Markdown link or image must not smuggle a script URL past it.
    let stderr = broken(|s| {
        s.write(
            "content/info.md",
            "+++\ntitle = \"Info\"\n+++\nBitte [hier klicken](javascript:alert(document.cookie)).\n\n![Bild](data:text/html;base64,PHNjcmlwdD4=)\n",
        );
    });
    insta::assert_snapshot!(stderr);
}
