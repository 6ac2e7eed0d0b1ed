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
use crate::model::{AssetFile, SourceFile, Sources, StaticFile, Template};

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
    let bounds = Bounds::new(&settings.root);
    let (content, assets) = load_content(settings, &content_dir, &bounds, &mut diags);
    sources.content = content;
    sources.assets = assets;

    let theme_dir = match theme_dir(settings) {
        Ok(d) => d,
        Err(d) => {
            diags.push(d);
            return Err(failed(diags));
        }
    };
    sources.templates = load_templates(settings, &theme_dir, &bounds, &mut diags);
    let translations = load_translations(settings, &theme_dir, &bounds, &mut diags);

    let mut statics: BTreeMap<String, StaticFile> = BTreeMap::new();
    for base in [theme_dir.join("static"), settings.root.join("static")] {
        if base.is_dir() {
            for (rel, abs) in walk(&base, &settings.root, &bounds, &mut diags) {
                diags.extend(check_static_name(&rel, &abs, &settings.root));
                statics.insert(rel.clone(), StaticFile { rel, abs });
            }
        }
    }
    sources.static_files = statics.into_values().collect();
    sources.content.sort_by(|a, b| a.rel.cmp(&b.rel));
    match translations {
        Some(t) => sources.translations = t,
        // Without its strings every template fails: the error about the file says why.
        None => return Err(failed(diags)),
    }
    Ok((sources, diags))
}

/// The build stops here with everything found so far, sorted like the later stages' errors.
fn failed(diags: Vec<Diagnostic>) -> BuildError {
    let mut all = crate::error::Diagnostics::new();
    all.extend(diags);
    BuildError::Content(all.into_sorted())
}

/// The Markdown files of `content/` (read) and the other files (assets, checked for active
/// content). Markdown under another extension (`.MD`, `.markdown`) is an error: it would be
/// neither a page nor a file to publish as it is.
fn load_content(
    settings: &Settings,
    content_dir: &Path,
    bounds: &Bounds,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<SourceFile>, Vec<AssetFile>) {
    let mut markdown = Vec::new();
    let mut assets = Vec::new();
    for (rel, abs) in walk(content_dir, &settings.root, bounds, diags) {
        if rel.ends_with(".md") {
            markdown.push((rel, abs));
        } else if let Some(d) = misnamed_markdown(&rel) {
            diags.push(d);
        } else {
            assets.push(AssetFile { rel, abs });
        }
    }
    // Reading and checking thousands of small files is worth spreading over the cores.
    let read: Vec<(Option<SourceFile>, Vec<Diagnostic>)> = markdown
        .into_par_iter()
        .map(|(rel, abs)| read_markdown(&rel, &abs))
        .collect();
    let mut content = Vec::new();
    for (file, d) in read {
        diags.extend(d);
        content.extend(file);
    }
    if !settings.markdown.trusted_html {
        let active: Vec<Vec<Diagnostic>> = assets
            .par_iter()
            .map(|a| crate::active::check(&a.abs, &Path::new("content").join(&a.rel)))
            .collect();
        diags.extend(active.into_iter().flatten());
    }
    (content, assets)
}

/// Reads one Markdown file of `content/` (`rel` as walked).
fn read_markdown(rel: &str, abs: &Path) -> (Option<SourceFile>, Vec<Diagnostic>) {
    let mut d = Vec::new();
    let shown = Path::new("content").join(rel);
    // macOS writes file names decomposed (NFD); links are typed composed (NFC).
    let rel = crate::slug::nfc(rel);
    let file =
        crate::files::read_text(abs, &shown, &mut d).map(|text| SourceFile::new(rel, shown, text));
    (file, d)
}

/// The sources after `changed` files were edited: `prev` with those files read again, when
/// each is a Markdown file of `content/` that `prev` has, still a regular file (an edit).
/// `None` when the change may add, remove or move files, or touch anything but content: then
/// everything is loaded with [`load`], whose walk checks what the site may contain.
pub(crate) fn reload(
    settings: &Settings,
    prev: Sources,
    changed: &[PathBuf],
) -> Option<(Sources, Vec<Diagnostic>)> {
    let content_dir = settings.root.join("content");
    let mut sources = prev;
    let mut diags = Vec::new();
    for abs in changed {
        let rel = abs
            .strip_prefix(&content_dir)
            .ok()?
            .to_str()?
            .replace('\\', "/");
        let meta = std::fs::symlink_metadata(abs).ok()?;
        let key = crate::slug::nfc(&rel);
        let i = sources.content.iter().position(|f| f.rel == key)?;
        if !meta.is_file() || !rel.ends_with(".md") {
            return None;
        }
        let (file, d) = read_markdown(&rel, abs);
        diags.extend(d);
        match file {
            Some(f) => sources.content[i] = f,
            None => {
                sources.content.remove(i);
            }
        }
    }
    Some((sources, diags))
}

/// Extensions editors use for Markdown besides `.md` (compared case-insensitively).
const MARKDOWN_LIKE: [&str; 6] = [".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn"];

fn misnamed_markdown(rel: &str) -> Option<Diagnostic> {
    let lower = rel.to_lowercase();
    let ext = MARKDOWN_LIKE.iter().find(|e| lower.ends_with(*e))?;
    let stem = rel
        .get(..rel.len().saturating_sub(ext.len()))
        .unwrap_or(rel);
    Some(
        Diagnostic::error(
            Path::new("content").join(rel),
            "Markdown file without the extension `.md`",
        )
        .with_hint(format!(
            "rename it to {}.md (in lower case); only .md files become pages",
            stem.rsplit('/').next().unwrap_or(stem)
        )),
    )
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

/// Theme templates first, site templates override them by name.
fn load_templates(
    settings: &Settings,
    theme_dir: &Path,
    bounds: &Bounds,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Template> {
    let mut templates: BTreeMap<String, Template> = BTreeMap::new();
    for base in [theme_dir.join("templates"), settings.root.join("templates")] {
        if !base.is_dir() {
            continue;
        }
        for (rel, abs) in walk(&base, &settings.root, bounds, diags) {
            let known = [".html", ".xml", ".txt", ".csv", ".json"];
            if !known.iter().any(|ext| rel.ends_with(ext)) {
                continue;
            }
            let shown = shown_path(&abs, &settings.root);
            if let Some(text) = crate::files::read_text(&abs, &shown, diags) {
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
    templates.into_values().collect()
}

/// The theme's strings for the site's language, from `i18n/<language>.toml`; None (with one
/// error: at `language` in config.toml if the theme has no such file) if they cannot be read.
fn load_translations(
    settings: &Settings,
    theme_dir: &Path,
    bounds: &Bounds,
    diags: &mut Vec<Diagnostic>,
) -> Option<BTreeMap<String, String>> {
    let dir = theme_dir.join("i18n");
    let i18n = dir.join(format!("{}.toml", settings.language));
    let shown = shown_path(&i18n, &settings.root);
    // Anything at that name is read (and refused if it is not a regular file); a link must
    // stay inside the site like any other.
    if std::fs::symlink_metadata(&i18n).is_err() {
        diags.push(missing_translations(settings, &dir, &shown));
        return None;
    }
    if let Some(d) = bounds
        .with_base(theme_dir)
        .check_link(&i18n, &settings.root)
    {
        diags.push(d);
        return None;
    }
    let text = crate::files::read_text(&i18n, &shown, diags)?;
    match toml::from_str::<BTreeMap<String, String>>(&text) {
        Ok(t) => Some(t),
        Err(e) => {
            diags.push(crate::config::toml_error(&shown, &text, &e));
            None
        }
    }
}

/// The error at `language` in config.toml for a theme without `i18n/<language>.toml`.
fn missing_translations(settings: &Settings, dir: &Path, shown: &Path) -> Diagnostic {
    let have: Vec<String> = folder_names(dir, |p| p.extension().is_some_and(|e| e == "toml"))
        .into_iter()
        .map(|n| n.trim_end_matches(".toml").to_string())
        .collect();
    let hint = if have.is_empty() {
        "the theme has no translations in its i18n/ folder".to_string()
    } else {
        format!("the theme has translations for: {}", have.join(", "))
    };
    settings
        .config_error(
            &["language"],
            format!(
                "the theme has no translations for language `{}`: `{}` does not exist",
                crate::error::escape_controls(&settings.language),
                shown.to_string_lossy().replace('\\', "/")
            ),
        )
        .with_hint(hint)
}

/// The real folders files may come from: the site's own source folders, and the folder being
/// walked (a theme may live elsewhere, linked in by the publisher). A symbolic link that
/// resolves anywhere else would publish a file from outside the site.
pub(crate) struct Bounds {
    allowed: Vec<PathBuf>,
}

impl Bounds {
    pub(crate) fn new(root: &Path) -> Self {
        let allowed = ["content", "static", "themes", "templates"]
            .iter()
            .filter_map(|d| std::fs::canonicalize(root.join(d)).ok())
            .collect();
        Bounds { allowed }
    }

    fn with_base(&self, base: &Path) -> Self {
        let mut allowed = self.allowed.clone();
        allowed.extend(std::fs::canonicalize(base).ok());
        Bounds { allowed }
    }

    fn contains(&self, real: &Path) -> bool {
        self.allowed.iter().any(|a| real.starts_with(a))
    }

    /// An error naming `link` if it is a symbolic link (or a chain of them) that leads out of
    /// the site's source folders; `None` for anything else (dangling links fail on reading).
    pub(crate) fn check_link(&self, link: &Path, root: &Path) -> Option<Diagnostic> {
        let is_link = std::fs::symlink_metadata(link).is_ok_and(|m| m.file_type().is_symlink());
        let real = std::fs::canonicalize(link).ok()?;
        if !is_link || self.contains(&real) {
            return None;
        }
        Some(
            Diagnostic::error(
                shown_path(link, root),
                format!(
                    "symbolic link to `{}`, which is outside the site's content/, static/, themes/ and templates/",
                    real.display()
                ),
            )
            .with_hint("copy the file into the site instead of linking to it, or remove the link"),
        )
    }
}

/// A static file is copied under its own name, which must be a file name on every file system
/// too (the `dateiablage` target goes to Windows shares), like the files of content/.
fn check_static_name(rel: &str, abs: &Path, root: &Path) -> Option<Diagnostic> {
    let reason = rel.split('/').find_map(crate::slug::unsafe_segment)?;
    Some(
        Diagnostic::error(
            shown_path(abs, root),
            format!("file {rel} cannot be published: {reason}"),
        )
        .with_hint("rename the file or its folder"),
    )
}

fn shown_path(abs: &Path, root: &Path) -> PathBuf {
    abs.strip_prefix(root).unwrap_or(abs).to_path_buf()
}

/// Files below `dir` as (relative path with `/`, absolute path), skipping editor artefacts
/// ([`crate::files::is_ignored`]). Symbolic links are followed only while they stay inside the site;
/// anything that is neither a folder nor a regular file is an error.
fn walk(
    dir: &Path,
    root: &Path,
    bounds: &Bounds,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, PathBuf)> {
    let bounds = bounds.with_base(dir);
    let mut out = Vec::new();
    let mut refused = Vec::new();
    let walker = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            if crate::files::is_ignored(e.file_name()) {
                return false;
            }
            let link = e
                .path_is_symlink()
                .then(|| bounds.check_link(e.path(), root));
            match link.flatten() {
                Some(d) => {
                    refused.push(d);
                    false
                }
                None => true,
            }
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                diags.extend(walk_error(&e, dir, root, &bounds));
                continue;
            }
        };
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            diags.push(crate::files::not_regular(
                &shown_path(entry.path(), root),
                &ft,
            ));
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
    diags.extend(refused);
    out
}

/// The diagnostic for an entry the walk could not follow; `None` for an editor artefact such
/// as Emacs' lock file `.#seite.md`, a symbolic link to nowhere.
fn walk_error(e: &walkdir::Error, dir: &Path, root: &Path, bounds: &Bounds) -> Option<Diagnostic> {
    let path = e.path().unwrap_or(dir);
    if path != dir && path.file_name().is_some_and(crate::files::is_ignored) {
        return None;
    }
    // A link out of the site is reported as that, also when following it fails.
    if let Some(d) = bounds.check_link(path, root) {
        return Some(d);
    }
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
    Some(Diagnostic::error(shown_path(path, root), msg).with_hint(hint))
}
