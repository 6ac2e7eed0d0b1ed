//! `wegweiser init` and `wegweiser new`: new sites and new pages from templates.
//!
//! `init` writes a minimal site with the default theme (embedded in the binary); `new` writes a
//! Markdown file whose front matter lists every field of its content type, to be completed.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use crate::config::{self, ContentType, FieldDef, FieldKind, Overrides};
use crate::error::{did_you_mean, BuildError};

/// The default theme, as shipped with this binary.
static DEFAULT_THEME: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

const CONFIG: &str = r#"# Site configuration of wegweiser; see the README for every key.
title = "Neues Portal"
description = ""
base_url = "https://www.example.org/"
language = "de"
theme = "default"

[keywords]
path = "suchworte"

# Content types: pages of a type must have its required fields, with the right types.
# [types.projekt]
# label = "Projekt"
# [types.projekt.fields]
# antragsteller = { type = "text", required = true, label = "Antragsteller" }
# foerderung = { type = "money", currency = "EUR", label = "Förderung" }

[extra]
herausgeber = "[Bitte eintragen: Name der herausgebenden Stelle]"
"#;

const HOME: &str = "+++\ntitle = \"Neues Portal\"\ndescription = \"\"\n+++\n\nWillkommen.\n";
const KEYWORDS: &str =
    "+++\ntitle = \"Suchworte\"\ndescription = \"Alle Suchworte von A bis Z.\"\n+++\n";

fn io_err(action: &str, path: &Path, e: &std::io::Error) -> BuildError {
    BuildError::io(action, path, e)
}

fn write_new(path: &Path, text: &[u8]) -> Result<(), BuildError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_err("create", parent, &e))?;
    }
    // create_new: never replace a file that appeared since the caller looked.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io_err("create", path, &e))?;
    std::io::Write::write_all(&mut file, text).map_err(|e| io_err("write", path, &e))
}

/// A new file must get a name the build reads: not empty (`.md`), not hidden or an editor
/// artefact (the build ignores those), and a valid file name on every file system.
fn check_new_name(path: &str, rel: &str) -> Result<(), BuildError> {
    let usage = |why: String| {
        BuildError::Usage(
            format!("{path:?} cannot be a page: {why}"),
            Some("give a path such as projekte/neues-projekt.md".into()),
        )
    };
    let stem = rel
        .rsplit('/')
        .next()
        .unwrap_or(rel)
        .trim_end_matches(".md");
    if stem.trim().is_empty() {
        return Err(usage("the file name is empty".into()));
    }
    for segment in rel.split('/') {
        if crate::files::is_ignored(std::ffi::OsStr::new(segment)) {
            return Err(usage(format!(
                "`{segment}` is a name the build ignores (hidden or a backup file)"
            )));
        }
        if let Some(why) = crate::slug::unsafe_segment(segment) {
            return Err(usage(why));
        }
    }
    Ok(())
}

/// `new` writes only inside content/: no folder on the way may be a link that leads out.
fn check_inside_content(root: &Path, rel: &str) -> Result<(), BuildError> {
    let content = root.join("content");
    let Ok(real_content) = std::fs::canonicalize(&content) else {
        return Ok(());
    };
    let mut at = content.clone();
    for segment in rel.split('/') {
        at.push(segment);
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            break;
        };
        let leaves = meta.file_type().is_symlink()
            && !std::fs::canonicalize(&at).is_ok_and(|real| real.starts_with(&real_content));
        if leaves {
            let shown = at.strip_prefix(root).unwrap_or(&at);
            return Err(BuildError::Usage(
                format!(
                    "`{}` is a symbolic link that leads out of content/",
                    shown.display()
                ),
                Some("create the page in a real folder inside content/".into()),
            ));
        }
    }
    Ok(())
}

/// Creates a new site in `dir` (which must not hold a site yet). Returns the files written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, BuildError> {
    if dir.join(config::CONFIG_FILE).exists() {
        return Err(BuildError::Usage(
            format!(
                "`{}` already holds a site (config.toml exists)",
                dir.display()
            ),
            Some("choose an empty or new folder: wegweiser init NEUER-ORDNER".into()),
        ));
    }
    check_init_dir(dir)?;
    let mut written = Vec::new();
    for (rel, text) in [
        (config::CONFIG_FILE, CONFIG),
        ("content/_index.md", HOME),
        ("content/suchworte/_index.md", KEYWORDS),
    ] {
        let p = dir.join(rel);
        write_new(&p, text.as_bytes())?;
        written.push(p);
    }
    write_dir(&DEFAULT_THEME, &dir.join("themes/default"), &mut written)?;
    Ok(written)
}

/// `init` writes only into a new or empty folder (hidden entries such as `.git` aside): in a
/// folder with other files it would mix a site into them (`init ~`, `init /etc`) or replace
/// an existing `content/_index.md` or theme template.
fn check_init_dir(dir: &Path) -> Result<(), BuildError> {
    let usage = |why: String| {
        BuildError::Usage(
            format!("`{}` {why}", dir.display()),
            Some("choose an empty or new folder: wegweiser init NEUER-ORDNER".into()),
        )
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => return Err(usage("is not a folder".into())),
        Err(e) => return Err(io_err("read", dir, &e)),
    };
    let mut visible: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    if visible.is_empty() {
        return Ok(());
    }
    visible.sort();
    let shown: Vec<String> = visible.iter().take(3).map(|n| format!("`{n}`")).collect();
    let more = if visible.len() > 3 { ", …" } else { "" };
    Err(usage(format!(
        "is not empty (it holds {}{more})",
        shown.join(", ")
    )))
}

/// Writes an embedded folder below `target`; embedded paths are relative to the theme root.
fn write_dir(d: &Dir<'_>, target: &Path, written: &mut Vec<PathBuf>) -> Result<(), BuildError> {
    for f in d.files() {
        let p = target.join(f.path());
        write_new(&p, f.contents())?;
        written.push(p);
    }
    for sub in d.dirs() {
        write_dir(sub, target, written)?;
    }
    Ok(())
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Creates `content/<path>` as a page of content type `kind` (or `page`/`section` for one
/// without a type). Returns the file written.
pub fn new_page(root: &Path, kind: &str, path: &str) -> Result<PathBuf, BuildError> {
    let settings = config::load(root, &Overrides::default()).map_err(BuildError::Content)?;
    let rel = content_rel(path)?;
    let file = root.join("content").join(&rel);
    // A link to nowhere exists too: writing to it would create its target.
    if std::fs::symlink_metadata(&file).is_ok() {
        return Err(BuildError::Usage(
            format!("content/{rel} exists already"),
            Some("choose another file name; wegweiser new never overwrites".into()),
        ));
    }
    check_inside_content(root, &rel)?;
    let section = kind == "section" || rel.ends_with("_index.md");
    let ctype = content_type(&settings, kind)?;
    write_new(&file, front_matter(section, ctype).as_bytes())?;
    Ok(file)
}

/// The new file's path inside content/ as the user gave it (`content/` and `.md` optional).
fn content_rel(path: &str) -> Result<String, BuildError> {
    let rel = path
        .trim_start_matches("content/")
        .trim_start_matches("./content/")
        .to_string();
    let rel = if rel.ends_with(".md") {
        rel
    } else {
        format!("{rel}.md")
    };
    if !crate::write::is_safe_rel(&rel) {
        return Err(BuildError::Usage(
            format!("`{path}` is not a path inside content/"),
            Some("give a path such as projekte/neues-projekt.md".into()),
        ));
    }
    check_new_name(path, &rel)?;
    Ok(rel)
}

/// The content type `kind` names; `page` and `section` are pages without a type.
fn content_type<'s>(
    settings: &'s config::Settings,
    kind: &str,
) -> Result<Option<&'s ContentType>, BuildError> {
    if matches!(kind, "page" | "section") {
        return Ok(None);
    }
    if let Some(ct) = settings.types.get(kind) {
        return Ok(Some(ct));
    }
    let mut known: Vec<&str> = vec!["page", "section"];
    known.extend(settings.types.keys().map(String::as_str));
    Err(BuildError::Usage(
        format!("unknown content type `{kind}`"),
        Some(
            did_you_mean(kind, known.iter().copied())
                .unwrap_or_else(|| format!("types are: {}", known.join(", "))),
        ),
    ))
}

/// The new file: front matter with every key to fill in, commented.
fn front_matter(section: bool, ctype: Option<&ContentType>) -> String {
    let mut fm = String::from("+++\ntitle = \"\"                # required: the page title\n");
    fm.push_str("description = \"\"          # one sentence for lists and search results\n");
    fm.push_str(&format!("date = {}\n", today()));
    fm.push_str("suchworte = []             # keywords, e.g. [\"Netzwerke\", \"Jugendliche\"]\n");
    if section {
        fm.push_str("sort_by = \"weight\"\n");
    }
    if let Some(ct) = ctype {
        // A page inside a section with this page_type needs no explicit type.
        fm.push_str(&format!("type = \"{}\"\n", ct.name));
        for f in &ct.fields {
            fm.push_str(&field_line(f));
        }
    }
    fm.push_str("+++\n\n");
    fm
}

/// `name = <empty value>    # label: kind, options, required`.
fn field_line(f: &FieldDef) -> String {
    let value = match f.kind {
        FieldKind::Text | FieldKind::Markdown => match f.options.first() {
            Some(o) => format!("\"{o}\""),
            None => "\"\"".into(),
        },
        FieldKind::List => "[]".into(),
        FieldKind::Money => format!("\"0,00 {}\"", f.currency),
        FieldKind::Date => today(),
        FieldKind::Integer => "0".into(),
        FieldKind::Bool => "false".into(),
    };
    let mut note = format!("{}: {}", f.label, f.kind.describe());
    if !f.options.is_empty() {
        note.push_str(&format!(", one of {}", f.options.join(", ")));
    }
    if f.required {
        note.push_str(" (required)");
    }
    format!("{} = {value}    # {note}\n", f.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_a_plausible_date() {
        let t = today();
        assert_eq!(t.len(), 10);
        assert!(t.as_str() >= "2024-01-01", "{t}");
    }
}
