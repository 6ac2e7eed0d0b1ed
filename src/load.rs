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

    let theme_dir = settings.root.join("themes").join(&settings.theme);
    if !theme_dir.is_dir() {
        let available: Vec<String> = std::fs::read_dir(settings.root.join("themes"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let hint = if available.is_empty() {
            "the site has no themes/ folder; copy a theme (e.g. themes/default from the wegweiser repository) into themes/".to_string()
        } else {
            format!(
                "set `theme` in config.toml to one of: {}",
                available.join(", ")
            )
        };
        return Err(Diagnostic::error(
            "config.toml",
            format!("theme `{}` not found in themes/", settings.theme),
        )
        .with_hint(hint)
        .into());
    }
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

    let i18n = theme_dir
        .join("i18n")
        .join(format!("{}.toml", settings.language));
    if i18n.is_file() {
        let shown = i18n
            .strip_prefix(&settings.root)
            .unwrap_or(&i18n)
            .to_path_buf();
        if let Some(text) = read_text(&i18n, &shown, &mut diags) {
            match toml::from_str::<BTreeMap<String, String>>(&text) {
                Ok(t) => sources.translations = t,
                Err(e) => diags.push(crate::config::toml_error(&shown, &text, &e)),
            }
        }
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
