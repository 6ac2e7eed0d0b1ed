//! `config.toml` → validated [`Settings`].
//!
//! The raw file is read with serde (`deny_unknown_fields`), then destructured field by field into
//! `Settings`, so a new config key that is not handled is a compile error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{did_you_mean, Diagnostic};

pub(crate) const CONFIG_FILE: &str = "config.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    title: String,
    #[serde(default)]
    description: String,
    base_url: String,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default = "default_theme")]
    theme: String,
    #[serde(default)]
    markdown: RawMarkdown,
    #[serde(default)]
    keywords: RawKeywords,
    #[serde(default)]
    types: BTreeMap<String, RawType>,
    #[serde(default)]
    extra: toml::Table,
    /// Build the full-text search index (targets may override it).
    #[serde(default = "yes")]
    search: bool,
    #[serde(default)]
    default_target: Option<String>,
    #[serde(default)]
    targets: BTreeMap<String, RawTarget>,
}

/// A publishing target (`[targets.internet]`): overrides of the base configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    base_url: Option<String>,
    output_dir: Option<PathBuf>,
    /// Include pages and sections marked `intern = true`.
    #[serde(default)]
    intern: bool,
    #[serde(default)]
    robots: Robots,
    /// Relative links to `…/index.html`, for opening the output from a file share.
    #[serde(default)]
    relative: bool,
    search: Option<bool>,
}

/// What robots.txt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Robots {
    #[default]
    Allow,
    Disallow,
}

/// The target this build is for.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `default` when the config declares no targets.
    pub name: String,
    pub include_intern: bool,
    pub robots: Robots,
    pub relative: bool,
    pub search: bool,
}

fn default_language() -> String {
    "de".into()
}
fn default_theme() -> String {
    "default".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarkdown {
    /// Off by default: pulldown-cmark makes English quotes (“…”), wrong in German text.
    #[serde(default)]
    smart_punctuation: bool,
    /// Keep raw HTML in Markdown as written (only for content from trusted editors).
    #[serde(default)]
    trusted_html: bool,
    #[serde(default = "yes")]
    highlight: bool,
}

impl Default for RawMarkdown {
    fn default() -> Self {
        RawMarkdown {
            smart_punctuation: false,
            trusted_html: false,
            highlight: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeywords {
    #[serde(default = "default_keyword_path")]
    path: String,
    #[serde(default)]
    allowed: Vec<String>,
    #[serde(default)]
    synonyms: BTreeMap<String, String>,
    #[serde(default)]
    see_also: BTreeMap<String, Vec<String>>,
    #[serde(default = "default_distance")]
    near_duplicate_distance: usize,
    #[serde(default = "default_related")]
    related: usize,
}

impl Default for RawKeywords {
    fn default() -> Self {
        RawKeywords {
            path: default_keyword_path(),
            allowed: Vec::new(),
            synonyms: BTreeMap::new(),
            see_also: BTreeMap::new(),
            near_duplicate_distance: default_distance(),
            related: default_related(),
        }
    }
}

fn default_keyword_path() -> String {
    "suchworte".into()
}
fn default_distance() -> usize {
    2
}
fn default_related() -> usize {
    8
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    #[serde(default)]
    label: String,
    #[serde(default)]
    fields: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    label: String,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    currency: Option<String>,
}

/// Validated site settings, read once and passed down by reference.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub root: PathBuf,
    pub output_dir: PathBuf,
    pub title: String,
    pub description: String,
    /// Always ends with `/`.
    pub base_url: String,
    pub language: String,
    pub theme: String,
    pub drafts: bool,
    pub markdown: MarkdownSettings,
    pub keywords: KeywordSettings,
    pub types: BTreeMap<String, ContentType>,
    pub extra: toml::Table,
    pub target: Target,
    /// The text of config.toml, for errors found later at a config value (theme, language).
    pub config_text: std::sync::Arc<str>,
}

impl Settings {
    /// An error at the value of `path` in config.toml.
    pub(crate) fn config_error(&self, path: &[&str], msg: impl Into<String>) -> Diagnostic {
        Ctx::new(&self.config_text).at_value(path, msg)
    }

    /// A warning at the key of `path` in config.toml (an array element: the element).
    pub(crate) fn config_warning(&self, path: &[&str], msg: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: crate::error::Severity::Warning,
            ..Ctx::new(&self.config_text).at_key(path, msg)
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MarkdownSettings {
    pub smart_punctuation: bool,
    pub trusted_html: bool,
    pub highlight: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct KeywordSettings {
    /// URL segment of the keyword pages, e.g. `suchworte`.
    pub path: String,
    pub allowed: Vec<String>,
    pub synonyms: BTreeMap<String, String>,
    pub see_also: BTreeMap<String, Vec<String>>,
    pub near_duplicate_distance: usize,
    pub related: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ContentType {
    pub name: String,
    pub label: String,
    /// In declaration order.
    pub fields: Vec<FieldDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Text,
    List,
    Money,
    Date,
    Integer,
    Bool,
    Markdown,
}

impl FieldKind {
    const NAMES: [&'static str; 7] = [
        "text", "list", "money", "date", "integer", "bool", "markdown",
    ];
    fn parse(s: &str) -> Option<Self> {
        [
            FieldKind::Text,
            FieldKind::List,
            FieldKind::Money,
            FieldKind::Date,
            FieldKind::Integer,
            FieldKind::Bool,
            FieldKind::Markdown,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
    /// The name used in config.toml (and shown to templates as `field_types`).
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::List => "list",
            FieldKind::Money => "money",
            FieldKind::Date => "date",
            FieldKind::Integer => "integer",
            FieldKind::Bool => "bool",
            FieldKind::Markdown => "markdown",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            FieldKind::Text => "a string",
            FieldKind::List => "a list of strings",
            FieldKind::Money => "an amount such as \"1.115.000,00 DM\"",
            FieldKind::Date => "a date such as 2001-01-06",
            FieldKind::Integer => "an integer",
            FieldKind::Bool => "true or false",
            FieldKind::Markdown => "a Markdown string",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub kind: FieldKind,
    pub required: bool,
    pub label: String,
    pub options: Vec<String>,
    pub currency: String,
}

/// Overrides from the command line.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub output_dir: Option<PathBuf>,
    pub base_url: Option<String>,
    pub drafts: bool,
    /// `--target NAME`; None builds the default target.
    pub target: Option<String>,
}

/// The target names declared in `<root>/config.toml`, or None if it cannot be read or parsed
/// (the full load reports that properly).
pub(crate) fn target_names(root: &Path) -> Option<Vec<String>> {
    let text = read_config(&root.join(CONFIG_FILE)).ok()?;
    let table: toml::Table = toml::from_str(text.strip_prefix('\u{feff}').unwrap_or(&text)).ok()?;
    Some(match table.get("targets").and_then(toml::Value::as_table) {
        Some(t) => t.keys().cloned().collect(),
        None => Vec::new(),
    })
}

/// The text of config.toml, read only if it is a regular file (a named pipe would block).
fn read_config(path: &Path) -> std::io::Result<String> {
    let bytes = crate::files::read_regular(path)?;
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Reads and validates `<root>/config.toml`.
pub(crate) fn load(root: &Path, overrides: &Overrides) -> Result<Settings, Vec<Diagnostic>> {
    let path = root.join(CONFIG_FILE);
    let shown = PathBuf::from(CONFIG_FILE);
    let text = match read_config(&path) {
        Ok(t) => t,
        Err(e) => {
            let hint = if e.kind() == std::io::ErrorKind::InvalidInput {
                "config.toml must be a regular file; replace it with the site's configuration"
                    .to_string()
            } else if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "run wegweiser in the site's root folder or pass --root DIR (looked in `{}`)",
                    root.display()
                )
            } else {
                "check the file's permissions and that it is UTF-8 text".to_string()
            };
            return Err(vec![Diagnostic::error(
                shown,
                format!("cannot read the site configuration: {e}"),
            )
            .with_hint(hint)]);
        }
    };
    parse(&text, root, overrides)
}

/// Byte offsets of the keys and values of config.toml, from toml's spanned document, so that
/// every error points at the value (or key) that causes it.
pub(crate) struct Spans<'a>(Option<toml::Spanned<toml::de::DeTable<'a>>>);

impl<'a> Spans<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Spans(toml::de::DeTable::parse(text).ok())
    }

    /// (key start, value start) of the deepest entry of `path` that exists; a segment below an
    /// array is an index (`["keywords", "see_also", "Arbeit", "1"]`), its "key" the element.
    fn find(&self, path: &[&str]) -> Option<(usize, usize)> {
        use toml::de::{DeTable, DeValue};
        enum Node<'b, 'a> {
            Table(&'b DeTable<'a>),
            Array(&'b [toml::Spanned<DeValue<'a>>]),
        }
        let mut node = Node::Table(self.0.as_ref()?.get_ref());
        let mut found = None;
        for name in path {
            let entry = match node {
                Node::Table(t) => t
                    .iter()
                    .find(|(k, _)| k.get_ref().as_ref() == *name)
                    .map(|(k, v)| (k.span().start, v)),
                Node::Array(a) => name
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| a.get(i))
                    .map(|v| (v.span().start, v)),
            };
            let Some((key, v)) = entry else { break };
            found = Some((key, v.span().start));
            node = match v.get_ref() {
                DeValue::Table(t) => Node::Table(t),
                DeValue::Array(a) => Node::Array(a),
                _ => break,
            };
        }
        found
    }

    /// Where the value at `path` starts (e.g. `["targets", "internet", "base_url"]`), else
    /// the nearest enclosing entry; None if nothing of it is in the file (a default).
    pub(crate) fn value(&self, path: &[&str]) -> Option<usize> {
        self.find(path).map(|(_, v)| v)
    }

    /// Where the key of `path` starts (or the nearest enclosing key).
    pub(crate) fn key(&self, path: &[&str]) -> Option<usize> {
        self.find(path).map(|(k, _)| k)
    }
}

/// The text of config.toml with its spans: makes diagnostics at the right place.
pub(crate) struct Ctx<'a> {
    pub text: &'a str,
    pub spans: Spans<'a>,
    pub shown: PathBuf,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Ctx {
            text,
            spans: Spans::new(text),
            shown: PathBuf::from(CONFIG_FILE),
        }
    }
    /// An error at the value of `path` (the whole file if it is not written there).
    pub(crate) fn at_value(&self, path: &[&str], msg: impl Into<String>) -> Diagnostic {
        self.place(self.spans.value(path), msg)
    }
    /// An error at the key of `path`.
    pub(crate) fn at_key(&self, path: &[&str], msg: impl Into<String>) -> Diagnostic {
        self.place(self.spans.key(path), msg)
    }
    fn place(&self, offset: Option<usize>, msg: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::error(&self.shown, msg);
        match offset {
            Some(o) => d.at(self.text, o),
            None => d,
        }
    }
}

pub(crate) fn parse(
    text: &str,
    root: &Path,
    overrides: &Overrides,
) -> Result<Settings, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ctx = Ctx::new(text);
    let raw: RawConfig = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => return Err(vec![toml_error(&ctx.shown, text, &e)]),
    };
    let RawConfig {
        title,
        description,
        base_url,
        language,
        theme,
        markdown,
        keywords,
        types,
        extra,
        search,
        default_target,
        targets,
    } = raw;
    let mut errors = Vec::new();
    check_targets(&ctx, root, &targets, &mut errors);
    let root_url = checked_url(&ctx, &["base_url"], &base_url, &mut errors);
    check_names(&ctx, &theme, &language, &mut errors);
    check_texts(
        &ctx,
        &[("title", &title), ("description", &description)],
        &mut errors,
    );
    let chosen = match choose_target(default_target, targets, search, overrides, &ctx) {
        Ok(t) => t,
        Err(d) => {
            errors.push(d);
            errors.sort_by_key(|d| (d.line, d.col));
            return Err(errors);
        }
    };
    let base_url = chosen_base_url(overrides, &chosen, root_url, &mut errors);
    let keywords = keyword_settings(&ctx, keywords, &mut errors);
    let content_types = content_types(types, &ctx, &mut errors);
    if !errors.is_empty() {
        // In the order of the file, like every other file's errors.
        errors.sort_by_key(|d| (d.line, d.col));
        return Err(errors);
    }
    let RawMarkdown {
        smart_punctuation,
        trusted_html,
        highlight,
    } = markdown;
    Ok(Settings {
        root: root.to_path_buf(),
        output_dir: overrides
            .output_dir
            .clone()
            .or_else(|| chosen.output_dir.map(|o| root.join(o)))
            .unwrap_or_else(|| root.join("public")),
        title,
        description,
        base_url,
        language,
        theme,
        drafts: overrides.drafts,
        markdown: MarkdownSettings {
            smart_punctuation,
            trusted_html,
            highlight,
        },
        keywords,
        types: content_types,
        extra,
        target: chosen.target,
        config_text: text.into(),
    })
}

/// `--base-url`, else the target's, else the top-level one (each already checked).
fn chosen_base_url(
    overrides: &Overrides,
    chosen: &Chosen,
    root_url: String,
    errors: &mut Vec<Diagnostic>,
) -> String {
    match (&overrides.base_url, &chosen.base_url) {
        (Some(flag), _) => normalise_base_url(flag).unwrap_or_else(|e| {
            errors.push(
                Diagnostic::error("", format!("invalid value for --base-url: {}", e.message))
                    .with_hint(e.hint),
            );
            String::new()
        }),
        (None, Some(url)) => normalise_base_url(url).unwrap_or_default(),
        (None, None) => root_url,
    }
}

fn content_types(
    types: BTreeMap<String, RawType>,
    ctx: &Ctx<'_>,
    errors: &mut Vec<Diagnostic>,
) -> BTreeMap<String, ContentType> {
    let mut content_types = BTreeMap::new();
    for (name, t) in types {
        match content_type(&name, t, ctx) {
            Ok(ct) => {
                content_types.insert(name, ct);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    content_types
}

/// The normalised URL, or an error at `path` (and an empty string).
fn checked_url(ctx: &Ctx<'_>, path: &[&str], url: &str, errors: &mut Vec<Diagnostic>) -> String {
    match normalise_base_url(url) {
        Ok(u) => u,
        Err(e) => {
            errors.push(ctx.at_value(path, e.message).with_hint(e.hint));
            String::new()
        }
    }
}

/// Every target's base_url and output_dir, not only the chosen one's: a mistake in any target
/// is found by whichever build runs first.
fn check_targets(
    ctx: &Ctx<'_>,
    root: &Path,
    targets: &BTreeMap<String, RawTarget>,
    errors: &mut Vec<Diagnostic>,
) {
    for (name, t) in targets {
        check_target_name(ctx, name, errors);
        if let Some(url) = &t.base_url {
            checked_url(ctx, &["targets", name, "base_url"], url, errors);
        }
        let Some(out) = &t.output_dir else { continue };
        if let Some(why) = crate::files::output_dir_problem(root, &root.join(out)) {
            errors.push(
                ctx.at_value(
                    &["targets", name, "output_dir"],
                    format!(
                        "output_dir `{}` of target `{name}` {why}",
                        crate::error::escape_controls(&out.to_string_lossy())
                    ),
                )
                .with_hint("choose a separate folder such as \"public/internet\""),
            );
        }
    }
}

/// Site texts reach every page: no control characters (they would reach the HTML raw) and a
/// title with something visible in it.
fn check_texts(ctx: &Ctx<'_>, texts: &[(&str, &str)], errors: &mut Vec<Diagnostic>) {
    for (key, text) in texts {
        if let Some(c) = text
            .chars()
            .find(|c| c.is_control() && *c != '\n' && *c != '\t')
        {
            errors.push(
                ctx.at_value(
                    &[key],
                    format!(
                        "{key} contains the control character {}",
                        c.escape_unicode()
                    ),
                )
                .with_hint("remove it; control characters are invisible and break the HTML"),
            );
        }
    }
    let visible = |c: char| !c.is_whitespace() && !c.is_control() && !is_invisible(c);
    if let Some((_, title)) = texts.iter().find(|(k, _)| *k == "title") {
        if !title.chars().any(visible) {
            errors.push(
                ctx.at_value(
                    &["title"],
                    "the site title is blank: it has no visible characters",
                )
                .with_hint("give the site a title, e.g. title = \"Beschäftigungsinitiativen\""),
            );
        }
    }
}

/// Format characters that show nothing (zero-width spaces and joiners, word joiner, BOM).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{00ad}')
        || crate::error::needs_escape(c)
}

/// Target names are typed on the command line and shown in messages: plain words only.
fn check_target_name(ctx: &Ctx<'_>, name: &str, errors: &mut Vec<Diagnostic>) {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        errors.push(
            ctx.at_key(
                &["targets", name],
                format!(
                    "target name `{}` is not a plain word",
                    crate::error::escape_controls(name)
                ),
            )
            .with_hint("use letters, digits, - and _, e.g. [targets.internet]"),
        );
    }
}

/// `theme` must name a folder in themes/ and `language` be a language tag: both become paths.
fn check_names(ctx: &Ctx<'_>, theme: &str, language: &str, errors: &mut Vec<Diagnostic>) {
    let segment = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && !s.contains(['/', '\\', ':'])
            && !s.chars().any(char::is_control)
    };
    if !segment(theme) {
        errors.push(
            ctx.at_value(
                &["theme"],
                format!(
                    "theme `{}` is not the name of a folder in themes/",
                    crate::error::escape_controls(theme)
                ),
            )
            .with_hint("themes are folders in the site's themes/ folder; write its name, e.g. theme = \"default\""),
        );
    }
    let tag = language.split('-').enumerate().all(|(i, part)| {
        let n = part.len();
        let ok_len = if i == 0 {
            (2..=3).contains(&n)
        } else {
            (1..=8).contains(&n)
        };
        ok_len
            && part.bytes().all(|b| {
                if i == 0 {
                    b.is_ascii_lowercase()
                } else {
                    b.is_ascii_alphanumeric()
                }
            })
    });
    if !tag {
        errors.push(
            ctx.at_value(
                &["language"],
                format!(
                    "language `{}` is not a language tag",
                    crate::error::escape_controls(language)
                ),
            )
            .with_hint("use a code such as \"de\" or \"de-CH\""),
        );
    }
}

fn keyword_settings(
    ctx: &Ctx<'_>,
    keywords: RawKeywords,
    errors: &mut Vec<Diagnostic>,
) -> KeywordSettings {
    let RawKeywords {
        path,
        allowed,
        synonyms,
        see_also,
        near_duplicate_distance,
        related,
    } = keywords;
    let clean = crate::slug::slugify(&path);
    if clean.is_empty() || clean != path {
        errors.push(
            ctx.at_value(
                &["keywords", "path"],
                format!(
                    "invalid keyword path `{}`",
                    crate::error::escape_controls(&path)
                ),
            )
            .with_hint(format!(
                "use a single lowercase URL segment such as \"{}\"",
                if clean.is_empty() {
                    "suchworte"
                } else {
                    &clean
                }
            )),
        );
    } else if let Some(reason) = crate::slug::unsafe_segment(&path) {
        // The keyword pages are a folder of every target, the file share's too.
        errors.push(
            ctx.at_value(
                &["keywords", "path"],
                format!("keyword path `{path}` cannot be a folder name: {reason}"),
            )
            .with_hint("choose another name, such as \"suchworte\""),
        );
    }
    // Each step multiplies the variants compared per keyword by its length.
    if near_duplicate_distance > 3 {
        errors.push(
            ctx.at_value(
                &["keywords", "near_duplicate_distance"],
                format!("near_duplicate_distance = {near_duplicate_distance} is too large"),
            )
            .with_hint("use 1, 2 (the default) or 3; 0 turns the check off"),
        );
    }
    KeywordSettings {
        path: clean,
        allowed,
        synonyms,
        see_also,
        near_duplicate_distance,
        related,
    }
}

/// The target to build and its overrides of base_url and output_dir.
struct Chosen {
    target: Target,
    base_url: Option<String>,
    output_dir: Option<PathBuf>,
}

/// Picks the target to build: `--target`, else `default_target`, else the only one.
fn choose_target(
    default_target: Option<String>,
    mut targets: BTreeMap<String, RawTarget>,
    search_default: bool,
    overrides: &Overrides,
    ctx: &Ctx<'_>,
) -> Result<Chosen, Diagnostic> {
    let names: Vec<String> = targets.keys().cloned().collect();
    let list = names.join(", ");
    let wanted = overrides.target.clone().or(default_target.clone());
    let name = match (wanted, targets.len()) {
        (None, 0) => {
            return Ok(Chosen {
                target: Target {
                    name: "default".into(),
                    include_intern: false,
                    robots: Robots::Allow,
                    relative: false,
                    search: search_default,
                },
                base_url: None,
                output_dir: None,
            })
        }
        (None, 1) => names[0].clone(),
        (None, _) => {
            return Err(ctx
                .at_key(
                    &["targets"],
                    format!("several targets ({list}) and no default_target"),
                )
                .with_hint("set default_target = \"…\" in config.toml or pass --target NAME"))
        }
        (Some(n), _) => n,
    };
    let Some(raw) = targets.remove(&name) else {
        let shown = crate::error::escape_controls(&name);
        let hint = did_you_mean(&name, names.iter().map(String::as_str)).unwrap_or_else(|| {
            if names.is_empty() {
                "declare targets in config.toml as [targets.intranet], [targets.internet]".into()
            } else {
                format!("targets are: {list}")
            }
        });
        // A wrong default_target is the config's fault; a wrong --target the caller's.
        let d = match (&overrides.target, default_target) {
            (None, Some(_)) => ctx.at_key(&["default_target"], format!("unknown target `{shown}`")),
            _ => Diagnostic::error(&ctx.shown, format!("unknown target `{shown}`")),
        };
        return Err(d.with_hint(hint));
    };
    let RawTarget {
        base_url,
        output_dir,
        intern,
        robots,
        relative,
        search,
    } = raw;
    Ok(Chosen {
        target: Target {
            name,
            include_intern: intern,
            robots,
            relative,
            search: search.unwrap_or(search_default),
        },
        base_url,
        output_dir,
    })
}

fn content_type(name: &str, t: RawType, ctx: &Ctx<'_>) -> Result<ContentType, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut fields = Vec::new();
    for (fname, value) in t.fields {
        match field_def(name, &fname, value, ctx) {
            Ok(f) => fields.push(f),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ContentType {
        name: name.to_string(),
        label: if t.label.is_empty() {
            name.to_string()
        } else {
            t.label
        },
        fields,
    })
}

fn field_def(
    name: &str,
    fname: &str,
    value: toml::Value,
    ctx: &Ctx<'_>,
) -> Result<FieldDef, Diagnostic> {
    let path = ["types", name, "fields", fname];
    let raw: RawField = match value.try_into() {
        Ok(r) => r,
        Err(e) => {
            let e: toml::de::Error = e;
            let (msg, hint) = serde_message_hint(e.message());
            return Err(ctx
                .at_key(&path, format!("field `{fname}` of type `{name}`: {msg}"))
                .with_hint_opt(hint.or_else(|| {
                    Some(
                        "declare a field as { type = \"text\", required = true, label = \"…\" }"
                            .into(),
                    )
                })));
        }
    };
    let Some(kind) = FieldKind::parse(&raw.kind) else {
        let shown = crate::error::escape_controls(&raw.kind);
        return Err(ctx
            .at_value(
                &["types", name, "fields", fname, "type"],
                format!("field `{fname}` of type `{name}` has unknown field type `{shown}`"),
            )
            .with_hint(
                did_you_mean(&raw.kind, FieldKind::NAMES)
                    .unwrap_or_else(|| format!("field types are: {}", FieldKind::NAMES.join(", "))),
            ));
    };
    if crate::model::RESERVED_KEYS.contains(&fname) {
        return Err(ctx
            .at_key(
                &path,
                format!("field `{fname}` of type `{name}` uses a reserved front matter key"),
            )
            .with_hint("choose another name; the built-in keys are title, description, date, …"));
    }
    Ok(FieldDef {
        name: fname.to_string(),
        kind,
        required: raw.required,
        label: if raw.label.is_empty() {
            fname.to_string()
        } else {
            raw.label
        },
        options: raw.options,
        currency: raw.currency.unwrap_or_else(|| "EUR".into()),
    })
}

/// Why a base URL was refused: what is wrong and how to write it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadUrl {
    pub message: String,
    pub hint: String,
}

const URL_EXAMPLE: &str = "use an absolute URL such as \"https://www.example.org/portal/\"";

fn bad_url(message: String, hint: impl Into<String>) -> BadUrl {
    BadUrl {
        message,
        hint: hint.into(),
    }
}

/// Validates a base URL and returns it with a trailing `/`.
///
/// The value goes verbatim into HTML attributes, inline CSS, XML and URLs of every page, so
/// it must need no escaping anywhere: http(s), a DNS name or IP address written in standard
/// form, no user-info, query or fragment, only printable ASCII that is safe in all of those
/// contexts. `url` parses it; the raw text is checked too, since `url` silently normalises.
pub(crate) fn normalise_base_url(raw: &str) -> Result<String, BadUrl> {
    let shown = crate::error::escape_controls(raw);
    let scheme_ok = ["http://", "https://"].iter().any(|s| {
        raw.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    });
    if !scheme_ok {
        return Err(bad_url(
            format!("base_url `{shown}` is not an absolute http(s) URL"),
            URL_EXAMPLE,
        ));
    }
    if let Some(e) = unsafe_char(raw, &shown) {
        return Err(e);
    }
    let rest = raw.split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(bad_url(
            format!("base_url `{shown}` has no host"),
            URL_EXAMPLE,
        ));
    }
    if authority.contains('@') {
        return Err(bad_url(
            format!("base_url `{shown}` contains a user name or password"),
            "remove the `user:password@` part; the published site is public",
        ));
    }
    if raw.contains(['?', '#']) {
        return Err(bad_url(
            format!("base_url `{shown}` must not contain a query, fragment or space"),
            URL_EXAMPLE,
        ));
    }
    let url = url::Url::parse(raw).map_err(|e| parse_failure(&shown, e))?;
    check_host_and_path(raw, &shown, authority, &url)?;
    let mut out = url.as_str().to_string();
    if !out.ends_with('/') {
        out.push('/');
    }
    Ok(out)
}

/// The first character that would need escaping in HTML, XML, CSS or a URL (`&` starts an
/// entity in HTML and XML; parentheses end an unquoted CSS `url(…)`).
fn unsafe_char(raw: &str, shown: &str) -> Option<BadUrl> {
    let bytes = raw.as_bytes();
    for (i, c) in raw.char_indices() {
        let what = if c.is_control() {
            format!("the control character {}", c.escape_unicode())
        } else if c.is_whitespace() {
            "a space".to_string()
        } else if "\"'<>&\\{}|^`()".contains(c) {
            format!("`{c}`")
        } else if c == '%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if hex(i + 1) && hex(i + 2) {
                continue;
            }
            "a `%` that does not start a percent-escape such as %20".to_string()
        } else {
            continue;
        };
        return Some(bad_url(
            format!("base_url `{shown}` contains {what}"),
            "a base URL may only contain letters, digits and - . _ ~ / : [ ] ! $ * + , ; = @ \
             and percent-escapes such as %20",
        ));
    }
    None
}

fn parse_failure(shown: &str, e: url::ParseError) -> BadUrl {
    use url::ParseError as P;
    let (what, hint) = match e {
        P::EmptyHost => ("has no host", URL_EXAMPLE),
        P::InvalidPort => (
            "has an invalid port",
            "a port is a number from 1 to 65535, e.g. https://example.org:8443/",
        ),
        P::InvalidIpv4Address => ("has an invalid IPv4 address", "write it as 192.0.2.1"),
        P::InvalidIpv6Address => (
            "has an invalid IPv6 address",
            "write it in brackets, e.g. http://[2001:db8::1]/",
        ),
        _ => (
            "has an invalid host",
            "a host is a DNS name such as www.example.org or an IP address",
        ),
    };
    bad_url(format!("base_url `{shown}` {what}"), hint)
}

/// The host must be a DNS name or an IP address as `url` writes it, the port 1–65535, the
/// path ASCII without `.`/`..` segments: what is written is what is published.
fn check_host_and_path(
    raw: &str,
    shown: &str,
    authority: &str,
    url: &url::Url,
) -> Result<(), BadUrl> {
    let canonical = url.as_str();
    if !raw.is_ascii() {
        let (what, hint) = if authority.is_ascii() {
            (
                "has non-ASCII characters in its path",
                "percent-encode them",
            )
        } else {
            (
                "has a non-ASCII host",
                "write the host in its ASCII (punycode) form",
            )
        };
        return Err(bad_url(
            format!("base_url `{shown}` {what}"),
            format!("{hint}: \"{canonical}\""),
        ));
    }
    if url.port() == Some(0) {
        return Err(parse_failure(shown, url::ParseError::InvalidPort));
    }
    let host = url.host_str().unwrap_or_default();
    let raw_host = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    };
    if !raw_host.eq_ignore_ascii_case(host) {
        return Err(bad_url(
            format!("base_url `{shown}` has a host that is not written in its standard form"),
            format!("write \"{canonical}\""),
        ));
    }
    if let Some(url::Host::Domain(d)) = url.host() {
        if !is_dns_name(d) {
            return Err(bad_url(
                format!("base_url `{shown}` has an invalid host `{d}`"),
                "a DNS name has labels of letters, digits and `-` (not at the ends), \
                 separated by dots, e.g. www.example.org",
            ));
        }
    }
    let raw_path = &raw[raw.find("://").map_or(0, |i| i + 3) + authority.len()..];
    if !raw_path.is_empty() && raw_path != url.path() {
        return Err(bad_url(
            format!("base_url `{shown}` has `.` or `..` segments in its path"),
            format!("write \"{canonical}\""),
        ));
    }
    Ok(())
}

/// RFC 1123 host name: labels of 1–63 letters, digits and inner hyphens, 253 bytes at most.
fn is_dns_name(d: &str) -> bool {
    d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A TOML/serde error as a diagnostic at its span, with a "did you mean" hint for unknown keys.
pub(crate) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Diagnostic {
    let (msg, hint) = serde_message_hint(e.message());
    let hint = hint.unwrap_or_else(|| TOML_SYNTAX_HINT.to_string());
    let d = Diagnostic::error(path, msg).with_hint(hint);
    match e.span() {
        Some(span) => d.at(text, span.start),
        None => d,
    }
}

/// The hint for TOML syntax errors, which the parser reports without one.
const TOML_SYNTAX_HINT: &str =
    "TOML syntax: one `key = value` per line, text in double quotes (\"…\"), lists in […], tables as [name]";

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into a message and a hint.
fn serde_message_hint(msg: &str) -> (String, Option<String>) {
    let msg = msg.trim();
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((name, tail)) = rest.split_once('`') {
            let expected: Vec<&str> = tail
                .split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s)
                .collect();
            let hint = did_you_mean(name, expected.iter().copied()).or_else(|| {
                (!expected.is_empty()).then(|| format!("known keys are: {}", expected.join(", ")))
            });
            return (format!("unknown key `{name}`"), hint);
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        if let Some((name, _)) = rest.split_once('`') {
            return (
                format!("missing required key `{name}`"),
                Some(format!("add `{name} = …`")),
            );
        }
    }
    (msg.to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Settings, Vec<Diagnostic>> {
        parse(s, Path::new("/site"), &Overrides::default())
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let s = parse_str("title = \"T\"\nbase_url = \"https://example.org/portal\"\n").unwrap();
        assert_eq!(s.base_url, "https://example.org/portal/");
        assert_eq!(s.language, "de");
        assert_eq!(s.keywords.path, "suchworte");
        assert_eq!(s.output_dir, Path::new("/site/public"));
    }

    #[test]
    fn unknown_key_has_position_and_hint() {
        let errs =
            parse_str("title = \"T\"\nbase_url = \"https://e.org/\"\ntheem = \"x\"\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        let d = &errs[0];
        assert_eq!((d.line, d.col), (3, 1));
        assert_eq!(d.message, "unknown key `theem`");
        assert_eq!(d.hint.as_deref(), Some("did you mean `theme`?"));
    }

    #[test]
    fn bad_field_type_is_reported() {
        let errs = parse_str(
            "title = \"T\"\nbase_url = \"https://e.org/\"\n[types.projekt.fields]\nbetrag = { type = \"mony\" }\n",
        )
        .unwrap_err();
        assert_eq!(errs[0].line, 4);
        assert_eq!(errs[0].hint.as_deref(), Some("did you mean `money`?"));
    }

    #[test]
    fn base_urls_that_need_no_escaping_are_accepted_and_normalised() {
        for (raw, want) in [
            ("https://example.org", "https://example.org/"),
            ("HTTPS://Example.ORG/Portal", "https://example.org/Portal/"),
            (
                "http://example.org:8443/a/b/",
                "http://example.org:8443/a/b/",
            ),
            ("http://192.0.2.1/", "http://192.0.2.1/"),
            ("http://[2001:db8::1]:8080/", "http://[2001:db8::1]:8080/"),
            (
                "https://xn--bundesmter-v5a.example/",
                "https://xn--bundesmter-v5a.example/",
            ),
            (
                "https://example.org/%C3%A4mter/",
                "https://example.org/%C3%A4mter/",
            ),
            ("https://example.org:443/", "https://example.org/"),
        ] {
            assert_eq!(normalise_base_url(raw).as_deref(), Ok(want), "{raw}");
        }
    }

    #[test]
    fn base_urls_that_would_need_escaping_or_are_no_urls_are_refused() {
        for (raw, why) in [
            (
                "https://example.org/</style><svg/onload=alert(1)>/",
                "contains `<`",
            ),
            ("https://example.org/\"onmouseover=\"x", "contains `\"`"),
            ("https://example.org/it's/", "contains `'`"),
            ("https://example.org/a\\b/", "contains `\\`"),
            ("https://example.org/a b/", "contains a space"),
            (
                "https://example.org/\u{1b}[31m/",
                "contains the control character \\u{1b}",
            ),
            (
                "https://example.org/\n/",
                "contains the control character \\u{a}",
            ),
            ("https://example.org/{x}/", "contains `{`"),
            ("https://example.org/a|b^c`/", "contains `|`"),
            ("https://example.org/url(x)/", "contains `(`"),
            ("https://example.org/a&lt;b/", "contains `&`"),
            ("https://example.org/100%/", "a `%` that does not start"),
            ("ftp://example.org/", "is not an absolute http(s) URL"),
            ("javascript:alert(1)", "is not an absolute http(s) URL"),
            ("//example.org/", "is not an absolute http(s) URL"),
            ("https:///portal/", "has no host"),
            ("https://", "has no host"),
            (
                "https://user:pw@example.org/",
                "contains a user name or password",
            ),
            ("https://@example.org/", "contains a user name or password"),
            ("https://example.org:0/", "has an invalid port"),
            ("https://example.org:70000/", "has an invalid port"),
            ("https://example.org:x/", "has an invalid port"),
            ("https://[::1/", "has an invalid IPv6 address"),
            ("https://1.2.3/", "not written in its standard form"),
            ("https://exa_mple.org/", "has an invalid host"),
            ("https://-example.org/", "has an invalid host"),
            ("https://example.org/a/../b/", "`.` or `..` segments"),
            ("https://example.org/?lang=de", "must not contain a query"),
            ("https://example.org/#top", "must not contain a query"),
            ("https://bundesämter.example/", "has a non-ASCII host"),
            (
                "https://example.org/ämter/",
                "non-ASCII characters in its path",
            ),
        ] {
            let e = normalise_base_url(raw).expect_err(raw);
            assert!(e.message.contains(why), "{raw}: {e:?}");
        }
        let e = normalise_base_url("https://bundesämter.example/").unwrap_err();
        assert_eq!(
            e.hint,
            "write the host in its ASCII (punycode) form: \"https://xn--bundesmter-v5a.example/\""
        );
        let e = normalise_base_url("https://example.org/ämter").unwrap_err();
        assert_eq!(
            e.hint,
            "percent-encode them: \"https://example.org/%C3%A4mter\""
        );
    }

    #[test]
    fn config_errors_point_at_the_value_of_the_target() {
        let errs = parse_str(
            "title = \"T\"\nbase_url = \"https://e.org/\"\ndefault_target = \"a\"\n[targets.a]\nbase_url = \"https://e.org/a b\"\n[targets.b]\nbase_url = \"ftp://e.org/\"\n",
        )
        .unwrap_err();
        let places: Vec<_> = errs.iter().map(|d| (d.line, d.col)).collect();
        assert_eq!(places, [(5, 12), (7, 12)], "{errs:?}");
    }

    #[test]
    fn spans_find_values_in_inline_and_dotted_tables() {
        let text = "a.b = 1\n[t]\nx = { y = \"z\" }\n";
        let spans = Spans::new(text);
        assert_eq!(spans.value(&["a", "b"]), text.find('1'));
        assert_eq!(spans.value(&["t", "x", "y"]), text.find("\"z"));
        assert_eq!(spans.key(&["t", "x", "nope"]), text.find("x ="));
        assert_eq!(spans.value(&["nope"]), None);
        let text = "[k]\nsee = [\"a\",\n  \"b\"]\n";
        assert_eq!(Spans::new(text).key(&["k", "see", "1"]), text.find("\"b"));
    }

    #[test]
    fn site_texts_without_control_characters_and_a_visible_title() {
        for (config, want) in [
            (
                "title = \"A\\u001b[2JB\"",
                "title contains the control character \\u{1b}",
            ),
            (
                "title = \"\\u200b\\u00a0 \"",
                "the site title is blank: it has no visible characters",
            ),
            (
                "title = \"\"",
                "the site title is blank: it has no visible characters",
            ),
            (
                "title = \"T\"\ndescription = \"x\\u0008\"",
                "description contains the control character \\u{8}",
            ),
        ] {
            let errs =
                parse_str(&format!("{config}\nbase_url = \"https://e.org/\"\n")).unwrap_err();
            assert_eq!(errs[0].message, want, "{config}");
            assert_eq!(
                errs[0].line,
                if config.contains("description") { 2 } else { 1 }
            );
        }
        let errs = parse_str("title = \"T\"\nbase_url = \"https://e.org/\"\n[targets.\"a b\"]\n")
            .unwrap_err();
        assert_eq!(errs[0].message, "target name `a b` is not a plain word");
        assert_eq!((errs[0].line, errs[0].col), (3, 10));
    }

    #[test]
    fn relative_base_url_is_an_error() {
        let errs = parse_str("title = \"T\"\nbase_url = \"/portal\"\n").unwrap_err();
        assert!(errs[0].message.contains("not an absolute"), "{:?}", errs[0]);
    }
}
