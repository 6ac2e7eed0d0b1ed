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
    let bytes = crate::load::read_regular(path)?;
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

pub(crate) fn parse(
    text: &str,
    root: &Path,
    overrides: &Overrides,
) -> Result<Settings, Vec<Diagnostic>> {
    let shown = PathBuf::from(CONFIG_FILE);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: RawConfig = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => return Err(vec![toml_error(&shown, text, &e)]),
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
    let (target, target_base_url, target_output) =
        match choose_target(default_target, targets, search, overrides, text, &shown) {
            Ok(t) => t,
            Err(d) => return Err(vec![d]),
        };
    let base_url = overrides
        .base_url
        .clone()
        .or(target_base_url)
        .unwrap_or(base_url);
    let base_url = match normalise_base_url(&base_url) {
        Ok(u) => u,
        Err(msg) => {
            let off = text.find("base_url").unwrap_or(0);
            errors.push(
                Diagnostic::error(&shown, msg)
                    .at(text, off)
                    .with_hint("use an absolute URL such as \"https://www.example.org/portal/\""),
            );
            String::new()
        }
    };
    let keywords = {
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
            let off = text.find("path").unwrap_or(0);
            errors.push(
                Diagnostic::error(&shown, format!("invalid keyword path `{path}`"))
                    .at(text, off)
                    .with_hint(format!(
                        "use a single lowercase URL segment such as \"{}\"",
                        if clean.is_empty() {
                            "suchworte"
                        } else {
                            &clean
                        }
                    )),
            );
        }
        // Each step multiplies the variants compared per keyword by its length.
        if near_duplicate_distance > 3 {
            let off = text.find("near_duplicate_distance").unwrap_or(0);
            errors.push(
                Diagnostic::error(
                    &shown,
                    format!("near_duplicate_distance = {near_duplicate_distance} is too large"),
                )
                .at(text, off)
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
    };
    let mut content_types = BTreeMap::new();
    for (name, t) in types {
        match content_type(&name, t, text, &shown) {
            Ok(ct) => {
                content_types.insert(name, ct);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
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
            .or_else(|| target_output.map(|o| root.join(o)))
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
        target,
    })
}

/// Picks the target to build: `--target`, else `default_target`, else the only one.
type Chosen = (Target, Option<String>, Option<PathBuf>);

fn choose_target(
    default_target: Option<String>,
    mut targets: BTreeMap<String, RawTarget>,
    search_default: bool,
    overrides: &Overrides,
    text: &str,
    shown: &Path,
) -> Result<Chosen, Diagnostic> {
    let names: Vec<String> = targets.keys().cloned().collect();
    let list = names.join(", ");
    let wanted = overrides.target.clone().or(default_target.clone());
    let name = match (wanted, targets.len()) {
        (None, 0) => {
            return Ok((
                Target {
                    name: "default".into(),
                    include_intern: false,
                    robots: Robots::Allow,
                    relative: false,
                    search: search_default,
                },
                None,
                None,
            ))
        }
        (None, 1) => names[0].clone(),
        (None, _) => {
            return Err(Diagnostic::error(
                shown,
                format!("several targets ({list}) and no default_target"),
            )
            .with_hint("set default_target = \"…\" in config.toml or pass --target NAME"))
        }
        (Some(n), _) => n,
    };
    let Some(raw) = targets.remove(&name) else {
        let d = Diagnostic::error(shown, format!("unknown target `{name}`")).with_hint(
            did_you_mean(&name, names.iter().map(String::as_str)).unwrap_or_else(|| {
                if names.is_empty() {
                    "declare targets in config.toml as [targets.intranet], [targets.internet]"
                        .into()
                } else {
                    format!("targets are: {list}")
                }
            }),
        );
        // A wrong default_target is the config's fault; a wrong --target the caller's.
        return Err(match (&overrides.target, default_target) {
            (None, Some(_)) => d.at(text, text.find("default_target").unwrap_or(0)),
            _ => d,
        });
    };
    let RawTarget {
        base_url,
        output_dir,
        intern,
        robots,
        relative,
        search,
    } = raw;
    Ok((
        Target {
            name,
            include_intern: intern,
            robots,
            relative,
            search: search.unwrap_or(search_default),
        },
        base_url,
        output_dir,
    ))
}

fn content_type(
    name: &str,
    t: RawType,
    text: &str,
    shown: &Path,
) -> Result<ContentType, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut fields = Vec::new();
    let locate = |key: &str| {
        text.find(&format!("{key} ="))
            .or_else(|| text.find(&format!("[types.{name}]")))
            .unwrap_or(0)
    };
    for (fname, value) in t.fields {
        let raw: RawField = match value.try_into() {
            Ok(r) => r,
            Err(e) => {
                let e: toml::de::Error = e;
                let (msg, hint) = serde_message_hint(e.message());
                errors.push(
                    Diagnostic::error(
                        shown,
                        format!("field `{fname}` of type `{name}`: {msg}"),
                    )
                    .at(text, locate(&fname))
                    .with_hint_opt(hint.or_else(|| {
                        Some("declare a field as { type = \"text\", required = true, label = \"…\" }".into())
                    })),
                );
                continue;
            }
        };
        let Some(kind) = FieldKind::parse(&raw.kind) else {
            errors.push(
                Diagnostic::error(
                    shown,
                    format!(
                        "field `{fname}` of type `{name}` has unknown field type `{}`",
                        raw.kind
                    ),
                )
                .at(text, locate(&fname))
                .with_hint(
                    did_you_mean(&raw.kind, FieldKind::NAMES).unwrap_or_else(|| {
                        format!("field types are: {}", FieldKind::NAMES.join(", "))
                    }),
                ),
            );
            continue;
        };
        if crate::parse::RESERVED_KEYS.contains(&fname.as_str()) {
            errors.push(
                Diagnostic::error(
                    shown,
                    format!("field `{fname}` of type `{name}` uses a reserved front matter key"),
                )
                .at(text, locate(&fname))
                .with_hint(
                    "choose another name; the built-in keys are title, description, date, …",
                ),
            );
            continue;
        }
        let label = if raw.label.is_empty() {
            fname.clone()
        } else {
            raw.label
        };
        fields.push(FieldDef {
            name: fname,
            kind,
            required: raw.required,
            label,
            options: raw.options,
            currency: raw.currency.unwrap_or_else(|| "EUR".into()),
        });
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

pub(crate) fn normalise_base_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let ok_scheme = url.starts_with("http://") || url.starts_with("https://");
    if !ok_scheme {
        return Err(format!("base_url `{url}` is not an absolute http(s) URL"));
    }
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("base_url `{url}` has no host"));
    }
    if url.contains(['?', '#', ' ']) {
        return Err(format!(
            "base_url `{url}` must not contain a query, fragment or space"
        ));
    }
    let mut u = url.to_string();
    if !u.ends_with('/') {
        u.push('/');
    }
    Ok(u)
}

/// A TOML/serde error as a diagnostic at its span, with a "did you mean" hint for unknown keys.
pub(crate) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Diagnostic {
    let (msg, hint) = serde_message_hint(e.message());
    let d = Diagnostic::error(path, msg).with_hint_opt(hint);
    match e.span() {
        Some(span) => d.at(text, span.start),
        None => d,
    }
}

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
    fn relative_base_url_is_an_error() {
        let errs = parse_str("title = \"T\"\nbase_url = \"/portal\"\n").unwrap_err();
        assert!(errs[0].message.contains("not an absolute"), "{:?}", errs[0]);
    }
}
