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
        .map(|(rel, abs)| {
            let mut d = Vec::new();
            let shown = Path::new("content").join(&rel);
            // macOS writes file names decomposed (NFD); links are typed composed (NFC).
            let rel = crate::slug::nfc(&rel);
            let file = read_text(&abs, &shown, &mut d).map(|text| SourceFile { rel, shown, text });
            (file, d)
        })
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
            if let Some(text) = read_text(&abs, &shown, diags) {
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
    let text = read_text(&i18n, &shown, diags)?;
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
/// ([`is_ignored`]). Symbolic links are followed only while they stay inside the site;
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
            if is_ignored(e.file_name()) {
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
            diags.push(not_regular(&shown_path(entry.path(), root), &ft));
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
    if path != dir && path.file_name().is_some_and(is_ignored) {
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

/// What a file that is not a regular file is, for messages.
fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    if ft.is_dir() {
        return "a folder";
    }
    "a special file"
}

const NOT_REGULAR_HINT: &str =
    "only regular files can be part of a site; remove it or replace it with a file";

fn not_regular(shown: &Path, ft: &std::fs::FileType) -> Diagnostic {
    Diagnostic::error(
        shown,
        format!("file is {}, not a regular file", kind_of(ft)),
    )
    .with_hint(NOT_REGULAR_HINT)
}

/// Editor, system and tool artefacts that are never part of a site, anywhere: hidden files
/// (`.DS_Store`, `.#seite.md`, `.seite.md.swp`), backups (`*~`, `*.bak`, `*.orig`, `*.rej`),
/// Emacs autosaves (`#seite.md#`), Vim swap files (`*.swp`, `*.swo`), temporary files (`*.tmp`,
/// `*.part`, `*.crdownload`), Office lock files (`~$bericht.docx`) and Windows folder files
/// (`Thumbs.db`, `ehthumbs.db`, `desktop.ini`). Compared case-insensitively.
pub(crate) fn is_ignored(name: &std::ffi::OsStr) -> bool {
    const SUFFIXES: [&str; 9] = [
        "~",
        ".bak",
        ".orig",
        ".rej",
        ".swp",
        ".swo",
        ".tmp",
        ".part",
        ".crdownload",
    ];
    const NAMES: [&str; 3] = ["thumbs.db", "ehthumbs.db", "desktop.ini"];
    let name = name.to_string_lossy().to_lowercase();
    name.starts_with(['.', '#', '~'])
        || SUFFIXES.iter().any(|s| name.ends_with(s))
        || NAMES.contains(&name.as_str())
}

/// Opens a file only if it is a regular file: a named pipe, socket or device would block the
/// build or never end, so it is refused before it is opened (and checked again once opened,
/// without blocking, in case it was swapped in between).
pub(crate) fn open_regular(abs: &Path) -> std::io::Result<std::fs::File> {
    let refuse = |ft: &std::fs::FileType| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("file is {}, not a regular file", kind_of(ft)),
        )
    };
    let ft = std::fs::metadata(abs)?.file_type();
    if !ft.is_file() {
        return Err(refuse(&ft));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A small flag (0o4000 on Linux): the cast to the C `int` open(2) takes is exact.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(abs)?;
    let ft = file.metadata()?.file_type();
    if !ft.is_file() {
        return Err(refuse(&ft));
    }
    Ok(file)
}

/// The bytes of a regular file (see [`open_regular`]).
pub(crate) fn read_regular(abs: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    open_regular(abs)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a UTF-8 text file, dropping a byte order mark; reports non-UTF-8 with its position.
pub(crate) fn read_text(abs: &Path, shown: &Path, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let bytes = match read_regular(abs) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            diags.push(Diagnostic::error(shown, e.to_string()).with_hint(NOT_REGULAR_HINT));
            return None;
        }
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
