//! Stage 1: walk `content/`, the theme and the site's overrides; read every file.
//!
//! Takes [`Settings`], returns [`Sources`]: the text of every Markdown file, the paths of assets
//! to copy, the templates and translation strings. Unreadable files become diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::config::Settings;
use crate::error::{BuildError, Diagnostic};

/// One Markdown file of `content/`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceFile {
    /// Path relative to `content/`, with `/` separators, e.g. `initiativen/equal/_index.md`.
    pub rel: String,
    /// Path shown in messages, relative to the site root, e.g. `content/initiativen/…`.
    pub shown: PathBuf,
    /// Text without a leading byte order mark.
    pub text: String,
}

/// A non-Markdown file of `content/` (page bundle assets), copied beside its page.
#[derive(Debug, Clone)]
pub(crate) struct AssetFile {
    pub rel: String,
    pub abs: PathBuf,
}

/// A file copied verbatim to the output root (theme `static/`, then site `static/`).
#[derive(Debug, Clone)]
pub(crate) struct StaticFile {
    pub rel: String,
    pub abs: PathBuf,
}

#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub name: String,
    pub shown: PathBuf,
    pub text: String,
}

#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub content: Vec<SourceFile>,
    pub assets: Vec<AssetFile>,
    pub templates: Vec<Template>,
    pub translations: BTreeMap<String, String>,
    pub static_files: Vec<StaticFile>,
}

/// Reads everything the build needs. Problems with single files are diagnostics; a missing
/// `content/` or theme stops the build.
pub(crate) fn load(settings: &Settings) -> Result<(Sources, Vec<Diagnostic>), BuildError> {
    let mut diags = Vec::new();
    let mut sources = Sources::default();
    let content_dir = settings.root.join("content");
    if !content_dir.is_dir() {
        return Err(
            Diagnostic::error("content", "the site has no `content/` folder")
                .with_hint("create content/_index.md for the home page, or pass --root DIR")
                .into(),
        );
    }
    let (markdown, assets): (Vec<_>, Vec<_>) = walk(&content_dir, &settings.root, &mut diags)
        .into_iter()
        .partition(|(rel, _)| rel.ends_with(".md"));
    sources.assets = assets
        .into_iter()
        .map(|(rel, abs)| AssetFile { rel, abs })
        .collect();
    // Reading thousands of small files is worth spreading over the cores.
    let read: Vec<(Option<SourceFile>, Vec<Diagnostic>)> = markdown
        .into_par_iter()
        .map(|(rel, abs)| {
            let mut d = Vec::new();
            let shown = Path::new("content").join(&rel);
            // macOS writes file names decomposed (NFD); links are typed composed (NFC).
            let rel = crate::slug::nfc(&rel);
            let file = read_text(&abs, &shown, &mut d).map(|text| SourceFile { rel, shown, text });
            (file, d)
        })
        .collect();
    for (file, d) in read {
        diags.extend(d);
        sources.content.extend(file);
    }

    let theme_dir = match theme_dir(settings) {
        Ok(d) => d,
        Err(d) => {
            diags.push(d);
            return Err(BuildError::Content(diags));
        }
    };
    // Theme templates first, site templates override them by name.
    let mut templates: BTreeMap<String, Template> = BTreeMap::new();
    for base in [theme_dir.join("templates"), settings.root.join("templates")] {
        if !base.is_dir() {
            continue;
        }
        for (rel, abs) in walk(&base, &settings.root, &mut diags) {
            let known = [".html", ".xml", ".txt", ".csv", ".json"];
            if !known.iter().any(|ext| rel.ends_with(ext)) {
                continue;
            }
            let shown = abs
                .strip_prefix(&settings.root)
                .unwrap_or(&abs)
                .to_path_buf();
            if let Some(text) = read_text(&abs, &shown, &mut diags) {
                templates.insert(
                    rel.clone(),
                    Template {
                        name: rel,
                        shown,
                        text,
                    },
                );
            }
        }
    }
    sources.templates = templates.into_values().collect();

    match translations(settings, &theme_dir, &mut diags) {
        Some(t) => sources.translations = t,
        // Without its strings every template fails: one error at `language` says why.
        None => return Err(BuildError::Content(diags)),
    }

    let mut statics: BTreeMap<String, StaticFile> = BTreeMap::new();
    for base in [theme_dir.join("static"), settings.root.join("static")] {
        if base.is_dir() {
            for (rel, abs) in walk(&base, &settings.root, &mut diags) {
                statics.insert(rel.clone(), StaticFile { rel, abs });
            }
        }
    }
    sources.static_files = statics.into_values().collect();
    sources.content.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok((sources, diags))
}

/// The theme's folder: `themes/<theme>` must exist and lie inside the site (also when it is
/// a symbolic link); errors point at `theme` in config.toml.
fn theme_dir(settings: &Settings) -> Result<PathBuf, Diagnostic> {
    let themes = settings.root.join("themes");
    let dir = themes.join(&settings.theme);
    let name = crate::error::escape_controls(&settings.theme);
    if !dir.is_dir() {
        let available = folder_names(&themes, |p| p.is_dir());
        let hint = if available.is_empty() {
            "the site has no themes/ folder; copy a theme (e.g. themes/default from the wegweiser repository) into themes/".to_string()
        } else {
            format!(
                "set `theme` in config.toml to one of: {}",
                available.join(", ")
            )
        };
        return Err(settings
            .config_error(&["theme"], format!("theme `{name}` not found in themes/"))
            .with_hint(hint));
    }
    let inside = match (dir.canonicalize(), settings.root.canonicalize()) {
        (Ok(real), Ok(root)) => real.starts_with(root),
        _ => false,
    };
    if !inside {
        return Err(settings
            .config_error(
                &["theme"],
                format!("theme `{name}` is a symbolic link to a folder outside the site"),
            )
            .with_hint("copy the theme into themes/ instead of linking to it"));
    }
    Ok(dir)
}

/// The theme's strings for `language`, from `i18n/<language>.toml`; None (with one error at
/// `language` in config.toml) if the theme has no such file.
fn translations(
    settings: &Settings,
    theme_dir: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<BTreeMap<String, String>> {
    let dir = theme_dir.join("i18n");
    let file = dir.join(format!("{}.toml", settings.language));
    let shown = file
        .strip_prefix(&settings.root)
        .unwrap_or(&file)
        .to_path_buf();
    if !file.is_file() {
        let mut have = folder_names(&dir, |p| {
            p.is_file() && p.extension().is_some_and(|e| e == "toml")
        });
        for h in &mut have {
            h.truncate(h.len() - ".toml".len());
        }
        let hint = if have.is_empty() {
            "the theme has no translations in its i18n/ folder".to_string()
        } else {
            format!("the theme has translations for: {}", have.join(", "))
        };
        diags.push(
            settings
                .config_error(
                    &["language"],
                    format!(
                        "the theme has no translations for language `{}`: `{}` does not exist",
                        crate::error::escape_controls(&settings.language),
                        shown.to_string_lossy().replace('\\', "/")
                    ),
                )
                .with_hint(hint),
        );
        return None;
    }
    let text = read_text(&file, &shown, diags)?;
    match toml::from_str::<BTreeMap<String, String>>(&text) {
        Ok(t) => Some(t),
        Err(e) => {
            diags.push(crate::config::toml_error(&shown, &text, &e));
            Some(BTreeMap::new())
        }
    }
}

/// Sorted names of the entries of `dir` that pass `keep`.
fn folder_names(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| keep(&e.path()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Files below `dir` as (relative path with `/`, absolute path), skipping hidden and backup files.
fn walk(dir: &Path, root: &Path, diags: &mut Vec<Diagnostic>) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let walker = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_ignored(e.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(dir);
                let shown = path.strip_prefix(root).unwrap_or(path).to_path_buf();
                let (msg, hint) = if e.loop_ancestor().is_some() {
                    (
                        "symbolic link loop".to_string(),
                        "remove the link or point it outside its own folder",
                    )
                } else {
                    (
                        format!("cannot read: {e}"),
                        "check that the file exists and is readable",
                    )
                };
                diags.push(Diagnostic::error(shown, msg).with_hint(hint));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        out.push((rel.join("/"), entry.path().to_path_buf()));
    }
    out
}

fn is_ignored(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") || name.starts_with('#')
}

/// Reads a UTF-8 text file, dropping a byte order mark; reports non-UTF-8 with its position.
pub(crate) fn read_text(abs: &Path, shown: &Path, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let bytes = match std::fs::read(abs) {
        Ok(b) => b,
        Err(e) => {
            diags.push(
                Diagnostic::error(shown, format!("cannot read file: {e}"))
                    .with_hint("check the file's permissions"),
            );
            return None;
        }
    };
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    // NUL bytes mean an image or document saved as .md, whatever its encoding.
    if bytes.contains(&0) {
        diags.push(
            Diagnostic::error(shown, "file is binary, not text")
                .with_hint("only Markdown text files belong here; move images and PDFs into a page bundle folder"),
        );
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s.to_string()),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let lossy = String::from_utf8_lossy(bytes);
            let text = String::from_utf8_lossy(valid);
            let offset = text.len();
            diags.push(
                Diagnostic::error(shown, "file is not valid UTF-8")
                    .at(&lossy, offset)
                    .with_hint("save the file as UTF-8 (e.g. it may be Latin-1/Windows-1252)"),
            );
            None
        }
    }
}
