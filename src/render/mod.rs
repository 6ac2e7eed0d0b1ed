//! Stage 6: view models and templates → HTML files in memory.
//!
//! Takes the resolved site, the rendered bodies and the keywords, and returns one [`Output`] per
//! file to write. This module is the only one that knows Tera; templates see only the plain
//! serialisable view structs below (the theme contract, docs/theme-contract.md).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use tera::{Context, Tera};

use crate::config::Settings;
use crate::error::{did_you_mean, BuildError, Diagnostic};
use crate::links::Body;
use crate::load::Template;
use crate::parse::{At, Date, FieldValue};
use crate::resolve::{all_pages, ancestors, Node, Site};
use crate::taxonomy::Keywords;
use crate::template_guard::{self as guard, Budget};

/// A file to write, relative to the output directory.
#[derive(Debug)]
pub(crate) struct Output {
    pub rel: String,
    pub bytes: Vec<u8>,
    /// The source this file was made from, for collision messages.
    pub source: PathBuf,
}

/// DM per euro, fixed on 31 December 1998.
const DM_PER_EUR_MILLIONTHS: i128 = 1_955_830;

/// Formats cents in German notation: 111500000 → "1.115.000,00".
pub(crate) fn format_de(cents: i64) -> String {
    let neg = cents < 0;
    let c = cents.unsigned_abs();
    let units = (c / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("{}{grouped},{:02}", if neg { "-" } else { "" }, c % 100)
}

/// DM cents → euro cents at the fixed rate, rounded half away from zero.
pub(crate) fn dm_to_euro_cents(dm_cents: i64) -> i64 {
    let n = i128::from(dm_cents) * 1_000_000;
    let q = (n.abs() + DM_PER_EUR_MILLIONTHS / 2) / DM_PER_EUR_MILLIONTHS;
    let q = i64::try_from(q).unwrap_or(i64::MAX);
    if dm_cents < 0 {
        -q
    } else {
        q
    }
}

#[derive(Serialize)]
struct LinkView<'a> {
    title: &'a str,
    permalink: String,
    path: &'a str,
}

#[derive(Serialize)]
struct DateView {
    iso: String,
    display: String,
}

impl From<&Date> for DateView {
    fn from(d: &Date) -> Self {
        DateView {
            iso: d.iso(),
            display: d.display(),
        }
    }
}

#[derive(Serialize)]
struct KeywordView<'a> {
    name: &'a str,
    slug: &'a str,
    permalink: String,
    count: usize,
}

#[derive(Serialize)]
struct SummaryView<'a> {
    title: &'a str,
    permalink: String,
    path: &'a str,
    description: &'a str,
    summary: &'a str,
    date: Option<DateView>,
    weight: i64,
    #[serde(rename = "type")]
    doc_type: Option<&'a str>,
    fields: Value,
    /// Which fields are HTML (`markdown`) and which text: a listing must not print a text
    /// field with `| safe` because another type's field of the same name was HTML.
    field_types: Value,
    suchworte: Vec<KeywordView<'a>>,
}

#[derive(Serialize)]
struct PageView<'a> {
    title: &'a str,
    description: &'a str,
    permalink: String,
    path: &'a str,
    slug: &'a str,
    date: Option<DateView>,
    updated: Option<DateView>,
    weight: i64,
    draft: bool,
    /// Intranet-only (only ever true in targets that include internal content).
    intern: bool,
    content: &'a str,
    summary: &'a str,
    toc: &'a [crate::markdown::TocEntry],
    word_count: usize,
    reading_time: usize,
    #[serde(rename = "type")]
    doc_type: Option<&'a str>,
    /// The content type's label, e.g. "Modellprojekt".
    type_label: Option<&'a str>,
    fields: Value,
    field_labels: Value,
    /// Field name → field type name (`text`, `money`, …).
    field_types: Value,
    suchworte: Vec<KeywordView<'a>>,
    breadcrumbs: Vec<LinkView<'a>>,
    section: Option<LinkView<'a>>,
    prev: Option<LinkView<'a>>,
    next: Option<LinkView<'a>>,
    backlinks: Vec<LinkView<'a>>,
    assets: Vec<String>,
    extra: &'a Value,
}

#[derive(Serialize)]
struct PaginatorView {
    current: usize,
    total: usize,
    first: String,
    last: String,
    prev: Option<String>,
    next: Option<String>,
    pages: Vec<PagerLink>,
}

#[derive(Serialize)]
struct PagerLink {
    number: usize,
    permalink: String,
    current: bool,
}

#[derive(Serialize)]
struct SectionView<'a> {
    #[serde(flatten)]
    page: PageView<'a>,
    pages: Vec<&'a Value>,
    subsections: Vec<&'a Value>,
    paginator: Option<PaginatorView>,
    all_pages: Vec<&'a Value>,
}

/// A keyword's page. Serialised once into the context: the listed summaries are borrowed.
#[derive(Serialize)]
struct KeywordPageView<'a> {
    name: &'a str,
    slug: &'a str,
    permalink: String,
    count: usize,
    content: &'a str,
    pages: Vec<&'a Value>,
    related: Vec<RelatedView<'a>>,
    see_also: Vec<KeywordView<'a>>,
    breadcrumbs: [LinkView<'a>; 2],
}

#[derive(Serialize)]
struct RelatedView<'a> {
    #[serde(flatten)]
    keyword: KeywordView<'a>,
    /// Pages carrying both keywords.
    shared: usize,
}

#[derive(Serialize)]
struct SiteView<'a> {
    title: &'a str,
    description: &'a str,
    language: &'a str,
    base_url: &'a str,
    root: &'a str,
    keywords_url: String,
    menu: Vec<LinkView<'a>>,
    /// The menu already has an entry for the keyword index (`content/suchworte/_index.md`).
    keywords_in_menu: bool,
    extra: &'a toml::Table,
    /// Absolute URL of the Atom feed.
    feed_url: String,
    /// Absolute URL of the search page, or null when this target has no search.
    search_url: Option<String>,
    /// Absolute URL of the search index folder (`…/pagefind/`), or null.
    search_bundle_url: Option<String>,
    target: TargetView<'a>,
}

#[derive(Serialize)]
struct TargetView<'a> {
    name: &'a str,
    /// Internal content is part of this build.
    intern: bool,
    /// Links are relative for opening from a file share (file://).
    relative: bool,
}

/// URL path of the search page.
pub(crate) const SEARCH_PATH: &str = "/suche/";

/// Everything the views are made from, borrowed.
struct Ctx<'a> {
    settings: &'a Settings,
    site: &'a Site,
    bodies: &'a [Body],
    keywords: &'a Keywords,
    /// Title of the keyword index: its `_index.md` title, else the theme's `keywords` string.
    keywords_title: String,
    /// Every node's summary for listings, built once: a page appears in many lists.
    summaries: &'a [Value],
}

static NULL: Value = Value::Null;

impl<'a> Ctx<'a> {
    fn permalink(&self, path: &str) -> String {
        format!("{}{}", self.settings.base_url, path.trim_start_matches('/'))
    }

    fn link(&self, id: usize) -> LinkView<'a> {
        let n: &'a Node = &self.site.nodes[id];
        LinkView {
            title: &n.doc.fm.title,
            permalink: self.permalink(&n.path),
            path: &n.path,
        }
    }

    fn keyword_path(&self, slug: &str) -> String {
        format!("/{}/{slug}/", self.settings.keywords.path)
    }

    fn keyword_refs(&self, id: usize) -> Vec<KeywordView<'a>> {
        self.keywords.by_node[id]
            .iter()
            .map(|&k| self.keyword_view(k))
            .collect()
    }

    fn keyword_view(&self, k: usize) -> KeywordView<'a> {
        let kw = &self.keywords.list[k];
        KeywordView {
            name: &kw.name,
            slug: &kw.slug,
            permalink: self.permalink(&self.keyword_path(&kw.slug)),
            count: kw.pages.len(),
        }
    }

    fn fields(&self, id: usize) -> (Value, Value, Value) {
        let n = &self.site.nodes[id];
        let mut fields = serde_json::Map::new();
        let mut labels = serde_json::Map::new();
        let mut types = serde_json::Map::new();
        let ctype = n
            .doc
            .fm
            .doc_type
            .as_ref()
            .and_then(|t| self.settings.types.get(t));
        for (name, v) in &n.doc.fm.fields {
            let value = match v {
                FieldValue::Text(s) => json!(s),
                FieldValue::List(l) => json!(l),
                FieldValue::Integer(i) => json!(i),
                FieldValue::Bool(b) => json!(b),
                FieldValue::Date(d) => json!(DateView::from(d)),
                FieldValue::Money { cents, currency } => money_json(*cents, currency),
                FieldValue::Markdown(_) => json!(self.bodies[id]
                    .field_html
                    .iter()
                    .find(|(f, _)| f == name)
                    .map_or("", |(_, h)| h.as_str())),
            };
            fields.insert(name.clone(), value);
            let def = ctype.and_then(|t| t.fields.iter().find(|f| &f.name == name));
            labels.insert(
                name.clone(),
                json!(def.map_or(name.as_str(), |f| f.label.as_str())),
            );
            types.insert(name.clone(), json!(def.map(|f| f.kind.name())));
        }
        (
            Value::Object(fields),
            Value::Object(labels),
            Value::Object(types),
        )
    }

    fn summary(&self, id: usize) -> SummaryView<'a> {
        let n: &'a Node = &self.site.nodes[id];
        let (fields, _, field_types) = self.fields(id);
        SummaryView {
            title: &n.doc.fm.title,
            permalink: self.permalink(&n.path),
            path: &n.path,
            description: &n.doc.fm.description,
            summary: &self.bodies[id].summary,
            date: n.doc.fm.date.as_ref().map(DateView::from),
            weight: n.doc.fm.weight,
            doc_type: n.doc.fm.doc_type.as_deref(),
            fields,
            field_types,
            suchworte: self.keyword_refs(id),
        }
    }

    fn page(&self, id: usize) -> PageView<'a> {
        let n: &'a Node = &self.site.nodes[id];
        let b: &'a Body = &self.bodies[id];
        let (fields, field_labels, field_types) = self.fields(id);
        PageView {
            title: &n.doc.fm.title,
            description: &n.doc.fm.description,
            permalink: self.permalink(&n.path),
            path: &n.path,
            slug: n
                .path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(""),
            date: n.doc.fm.date.as_ref().map(DateView::from),
            updated: n.doc.fm.updated.as_ref().map(DateView::from),
            weight: n.doc.fm.weight,
            draft: n.doc.fm.draft,
            intern: n.doc.fm.intern,
            content: &b.html,
            summary: &b.summary,
            toc: &b.toc,
            word_count: b.word_count,
            reading_time: b.word_count.div_ceil(200).max(1),
            doc_type: n.doc.fm.doc_type.as_deref(),
            type_label: n
                .doc
                .fm
                .doc_type
                .as_ref()
                .and_then(|t| self.settings.types.get(t))
                .map(|t| t.label.as_str()),
            fields,
            field_labels,
            field_types,
            suchworte: self.keyword_refs(id),
            breadcrumbs: ancestors(&self.site.nodes, id)
                .into_iter()
                .map(|a| self.link(a))
                .collect(),
            section: n.parent.map(|p| self.link(p)),
            prev: n.prev.map(|p| self.link(p)),
            next: n.next.map(|p| self.link(p)),
            backlinks: b.backlinks.iter().map(|&x| self.link(x)).collect(),
            assets: n.assets.iter().map(|a| self.permalink(a)).collect(),
            extra: if n.doc.fm.extra.is_null() {
                &NULL
            } else {
                &n.doc.fm.extra
            },
        }
    }
}

fn money_json(cents: i64, currency: &str) -> Value {
    let euro_cents = match currency {
        "DM" => Some(dm_to_euro_cents(cents)),
        "EUR" | "€" => Some(cents),
        _ => None,
    };
    let amount = format_de(cents);
    json!({
        "cents": cents,
        "amount": amount,
        "currency": currency,
        "display": format!("{amount} {currency}"),
        "euro_cents": euro_cents,
        "euro": euro_cents.map(format_de),
        "euro_display": euro_cents.map(|e| format!("{} €", format_de(e))),
    })
}

/// The loaded templates, and which of them use the (large) `all_pages` list, so it is only
/// built where a template reads it.
#[derive(Default)]
pub(crate) struct Templates {
    pub tera: Tera,
    pub all_pages: HashSet<String>,
    /// A template prints `menu_html` and the theme has [`MENU_TEMPLATE`].
    pub uses_menu_html: bool,
    /// The evaluation budget the template guards draw from (reset for every output).
    pub budget: Arc<Budget>,
    /// Template name → (shown path, text), to place render errors.
    pub sources: HashMap<String, (PathBuf, String)>,
}

/// Loads the templates into Tera with the engine's filters and functions.
pub(crate) fn templates(
    settings: &Settings,
    sources: &[Template],
) -> Result<Templates, BuildError> {
    let budget = Arc::new(Budget::default());
    let tera = load_tera(settings, sources, &budget)?;
    // A template needs all_pages if it, a parent or an imported macro file mentions it.
    let mentions: HashSet<&str> = sources
        .iter()
        .filter(|t| t.text.contains("all_pages"))
        .map(|t| t.name.as_str())
        .collect();
    let mut all_pages = HashSet::new();
    for name in tera.get_template_names() {
        let Ok(t) = tera.get_template(name) else {
            continue;
        };
        let uses = mentions.contains(name)
            || t.parents.iter().any(|p| mentions.contains(p.as_str()))
            || t.imported_macro_files
                .iter()
                .any(|(f, _)| mentions.contains(f.as_str()));
        if uses {
            all_pages.insert(name.to_string());
        }
    }
    let uses_menu_html = tera.get_template_names().any(|n| n == MENU_TEMPLATE)
        && sources.iter().any(|t| t.text.contains("menu_html"));
    Ok(Templates {
        tera,
        all_pages,
        uses_menu_html,
        budget,
        sources: guard::source_map(sources),
    })
}

fn load_tera(
    settings: &Settings,
    templates: &[Template],
    budget: &Arc<Budget>,
) -> Result<Tera, BuildError> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".xml"]);
    tera.set_escape_fn(escape_html);
    parse_guarded(&mut tera, templates, budget)?;
    guard::register(&mut tera);
    register_engine(&mut tera, settings);
    Ok(tera)
}

/// Parses the templates and adds the guards; refuses what would overflow the stack first.
fn parse_guarded(
    tera: &mut Tera,
    templates: &[Template],
    budget: &Arc<Budget>,
) -> Result<(), BuildError> {
    let deep: Vec<Diagnostic> = templates
        .iter()
        .filter_map(|t| {
            let at = guard::too_deep(&t.text)?;
            Some(
                Diagnostic::error(
                    &t.shown,
                    format!(
                        "template nests tags or brackets more than {} levels deep",
                        guard::MAX_NESTING
                    ),
                )
                .at(&t.text, at)
                .with_hint("split the template into macros or partials"),
            )
        })
        .collect();
    if !deep.is_empty() {
        return Err(BuildError::Content(deep));
    }
    let list: Vec<(&str, &str)> = templates
        .iter()
        .map(|t| (t.name.as_str(), t.text.as_str()))
        .collect();
    if let Err(e) = tera.add_raw_templates(list) {
        return Err(template_error(&e, templates).into());
    }
    let escaped = |name: &str| name.ends_with(".html") || name.ends_with(".xml");
    if let Err(e) = crate::autoescape::install(tera, escape_html, escaped) {
        return Err(template_error(&e, templates).into());
    }
    let cycles = guard::include_cycles(tera, templates);
    if !cycles.is_empty() {
        return Err(BuildError::Content(cycles));
    }
    guard::instrument(tera, budget).map_err(|e| template_error(&e, templates).into())
}

/// The engine's own filters and functions.
fn register_engine(tera: &mut Tera, settings: &Settings) {
    let base = settings.base_url.clone();
    tera.register_function(
        "url",
        move |args: &HashMap<String, Value>| -> tera::Result<Value> {
            let path = args
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| tera::Error::msg("url() needs path=\"/…\""))?;
            Ok(json!(format!("{base}{}", path.trim_start_matches('/'))))
        },
    );
    tera.register_filter("money_de", |v: &Value, args: &HashMap<String, Value>| {
        let cents = v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f.round() as i64))
            .ok_or_else(|| tera::Error::msg("money_de expects an amount in cents"))?;
        let currency = args.get("currency").and_then(Value::as_str).unwrap_or("");
        let s = format_de(cents);
        Ok(json!(if currency.is_empty() {
            s
        } else {
            format!("{s} {currency}")
        }))
    });
    // Cents as a plain decimal ("1115000.00"), for machine-readable outputs.
    tera.register_filter("decimal", |v: &Value, _: &HashMap<String, Value>| {
        let cents = v
            .as_i64()
            .ok_or_else(|| tera::Error::msg("decimal expects an amount in cents"))?;
        let sign = if cents < 0 { "-" } else { "" };
        let c = cents.unsigned_abs();
        Ok(json!(format!("{sign}{}.{:02}", c / 100, c % 100)))
    });
    // RFC 4180 field: always quoted, inner quotes doubled; for open-data CSV templates.
    tera.register_filter("csv", |v: &Value, _: &HashMap<String, Value>| {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        Ok(json!(csv_field(&s)))
    });
    // A string inside a CSS string literal in a `<style>` element (e.g. the base URL).
    tera.register_filter("css_string", |v: &Value, _: &HashMap<String, Value>| {
        let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        Ok(json!(css_string(&s)))
    });
    tera.register_filter("euro_de", |v: &Value, _: &HashMap<String, Value>| {
        let cents = v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f.round() as i64))
            .ok_or_else(|| tera::Error::msg("euro_de expects an amount in DM cents"))?;
        Ok(json!(format!("{} €", format_de(dm_to_euro_cents(cents)))))
    });
}

/// A quoted CSV field (RFC 4180). A cell a spreadsheet would read as a formula (starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return; OWASP "CSV injection") gets a leading `'`, so
/// it is shown as text; numbers such as `-5` or `-1.234,56` stay numbers.
pub(crate) fn csv_field(s: &str) -> String {
    const FORMULA: [char; 10] = [
        '=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ];
    let number = |s: &str| {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        digits.starts_with(|c: char| c.is_ascii_digit())
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    };
    let quote = if s.starts_with(FORMULA) && !number(s) {
        "'"
    } else {
        ""
    };
    format!("\"{quote}{}\"", s.replace('"', "\"\""))
}

/// Escapes text for a CSS string literal inside `<style>`: everything but letters, digits and
/// a few URL characters becomes a CSS escape (`\3c `), so neither a quote nor `</style>` can
/// end the string or the element, and the result needs no HTML escaping either.
pub(crate) fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric()
            || "/:.-_~?#%=,+@".contains(c)
            || (!c.is_ascii() && !c.is_control())
        {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", u32::from(c)));
        }
    }
    out
}

/// Escapes what HTML needs escaped; unlike Tera's default it leaves `/` alone, so URLs stay
/// readable and pages smaller.
pub(crate) fn escape_html(input: &str) -> String {
    // Copies runs of safe bytes at once; this is on the hot path of every page.
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len() + input.len() / 16);
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&input[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&input[start..]);
    out
}

/// Tera's error chain as one diagnostic, placed in the template file where Tera says.
fn template_error(e: &tera::Error, templates: &[Template]) -> Diagnostic {
    let chain = error_chain(e);
    let name = templates
        .iter()
        .find(|t| chain.iter().any(|m| m.contains(&format!("'{}'", t.name))));
    let path = name.map_or(PathBuf::from("templates"), |t| t.shown.clone());
    let mut d = Diagnostic::error(path, format!("template error: {}", chain.join(": ")))
        .with_hint("fix the template syntax (Tera: {{ value }}, {% if %}…{% endif %})");
    // Tera/pest messages carry " --> line:col".
    if let (Some(t), Some(pos)) = (name, chain.iter().find_map(|m| pest_position(m))) {
        let offset = line_col_offset(&t.text, pos.0, pos.1);
        d = d.at(&t.text, offset);
    }
    d
}

fn pest_position(msg: &str) -> Option<(usize, usize)> {
    let rest = &msg[msg.find("--> ")? + 4..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let (l, c) = rest[..end].split_once(':')?;
    Some((l.parse().ok()?, c.parse().ok()?))
}

fn line_col_offset(text: &str, line: usize, col: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = &text[start.min(text.len())..];
    start
        + line_text
            .chars()
            .take(col.saturating_sub(1))
            .map(char::len_utf8)
            .sum::<usize>()
}

fn error_chain(e: &tera::Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        let s = c.to_string();
        if out.last() != Some(&s) {
            out.push(s);
        }
        cur = c.source();
    }
    out
}

/// The main menu's template, rendered once per [`MenuState`] when a template uses `menu_html`.
pub(crate) const MENU_TEMPLATE: &str = "partials/menu.html";

/// Which entry of the main menu is current on a page: the same for all pages below one
/// top-level section, so the menu is rendered once per state, not once per page (with a
/// hundred top-level sections, the menu loop was a fifth of every page's template time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
struct MenuState<'a> {
    /// The page is the home page.
    home: bool,
    /// Path of the menu entry that is the page itself, or "".
    current: &'a str,
    /// Path of the menu entry the page is below, or "".
    inside: &'a str,
    /// The keyword index: "page" on it, "true" below it (keyword pages), else "".
    keywords: &'static str,
}

struct MenuCache<'a> {
    tera: &'a Tera,
    budget: &'a Budget,
    /// `site` and `t`.
    base: &'a Context,
    paths: Vec<&'a str>,
    keywords_url: &'a str,
    rendered: std::sync::Mutex<HashMap<MenuState<'a>, std::sync::Arc<String>>>,
}

impl<'a> MenuCache<'a> {
    fn state(&self, current_path: &str, current_url: &str) -> MenuState<'a> {
        let mut state = MenuState {
            home: current_path == "/",
            current: "",
            inside: "",
            keywords: "",
        };
        for &p in &self.paths {
            if current_path == p {
                state.current = p;
            } else if p != "/" && current_path.starts_with(p) && state.inside.is_empty() {
                state.inside = p;
            }
        }
        state.keywords = if current_url == self.keywords_url {
            "page"
        } else if current_url.starts_with(self.keywords_url) {
            "true"
        } else {
            ""
        };
        state
    }

    fn html(&self, state: MenuState<'a>) -> Result<std::sync::Arc<String>, RenderError> {
        let lock = || {
            self.rendered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(html) = lock().get(&state) {
            return Ok(html.clone());
        }
        // Rendered outside the lock; two workers may render the same state once each.
        let mut c = self.base.clone();
        c.insert("menu_state", &state);
        let html = render_capped(self.tera, self.budget, MENU_TEMPLATE, &c, guard::MAX_OUTPUT)?;
        // Without the whitespace around the template's comment and list: base.html places it.
        let html = std::sync::Arc::new(html.trim().to_string());
        lock().insert(state, html.clone());
        Ok(html)
    }
}

/// One output file to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    Node(usize),
    /// An extra output of a section, e.g. `projekte.csv`.
    Extra(usize, usize),
    SectionPage(usize, usize),
    KeywordIndex,
    Keyword(usize),
    /// A page made from a template alone: (template, URL path).
    Special(&'static str, &'static str),
}

/// What rendering reads: the results of the earlier stages.
pub(crate) struct Inputs<'a> {
    pub settings: &'a Settings,
    pub templates: &'a Templates,
    pub translations: &'a BTreeMap<String, String>,
    pub site: &'a Site,
    pub bodies: &'a [Body],
    pub keywords: &'a Keywords,
    pub keyword_html: &'a KeywordHtml,
    /// Ticked once per rendered output.
    pub progress: &'a indicatif::ProgressBar,
    /// Summaries kept between renders (the dev server): `Null` entries are computed and stored.
    pub summary_cache: Option<&'a std::sync::Mutex<Vec<Value>>>,
    /// Takes each output as soon as it is rendered (a build writes it to disk); the returned
    /// output then keeps only its path and source, so memory does not grow with the site.
    /// `None`: outputs are returned whole (the dev server serves them from memory).
    pub emit: Option<&'a (dyn Fn(&Output) + Sync)>,
}

/// Renders every output of the site for which `select` says yes (the dev server renders only
/// what a change touched; a build renders all).
pub(crate) fn render(
    inputs: &Inputs<'_>,
    select: &(dyn Fn(&Job) -> bool + Sync),
) -> (Vec<Output>, Vec<Diagnostic>) {
    // On threads with a stack deep enough for the template guards' limits.
    guard::on_render_threads(|| render_on_this_pool(inputs, select))
}

fn render_on_this_pool(
    inputs: &Inputs<'_>,
    select: &(dyn Fn(&Job) -> bool + Sync),
) -> (Vec<Output>, Vec<Diagnostic>) {
    let Inputs {
        settings,
        templates,
        translations,
        site,
        bodies,
        keywords,
        keyword_html,
        progress,
        summary_cache,
        emit,
    } = *inputs;
    let tera = &templates.tera;
    let ctx = Ctx {
        settings,
        site,
        bodies,
        keywords,
        keywords_title: keyword_html
            .index_title
            .clone()
            .or_else(|| translations.get("keywords").cloned())
            .unwrap_or_else(|| settings.keywords.path.clone()),
        summaries: &[],
    };
    let mut menu: Vec<usize> = site.nodes[site.home].subsections.clone();
    menu.retain(|&s| s != site.home);
    let site_view = SiteView {
        title: &settings.title,
        description: &settings.description,
        language: &settings.language,
        base_url: &settings.base_url,
        root: &settings.base_url,
        keywords_url: ctx.permalink(&format!("/{}/", settings.keywords.path)),
        menu: menu.into_iter().map(|s| ctx.link(s)).collect(),
        keywords_in_menu: false,
        extra: &settings.extra,
        feed_url: ctx.permalink("/atom.xml"),
        search_url: settings.target.search.then(|| ctx.permalink(SEARCH_PATH)),
        search_bundle_url: settings
            .target
            .search
            .then(|| ctx.permalink(&format!("/{}/", crate::search::BUNDLE_DIR))),
        target: TargetView {
            name: &settings.target.name,
            intern: settings.target.include_intern,
            relative: settings.target.relative,
        },
    };
    let mut site_view = site_view;
    site_view.keywords_in_menu = site_view
        .menu
        .iter()
        .any(|l| l.permalink == site_view.keywords_url);
    let mut base = Context::new();
    base.insert("site", &site_view);
    base.insert("t", translations);
    let menu = templates.uses_menu_html.then(|| MenuCache {
        tera,
        budget: &templates.budget,
        base: &base,
        paths: site_view.menu.iter().map(|l| l.path).collect(),
        keywords_url: &site_view.keywords_url,
        rendered: std::sync::Mutex::new(HashMap::new()),
    });

    let mut diags = Vec::new();
    let mut jobs = Vec::new();
    for (id, n) in site.nodes.iter().enumerate() {
        jobs.push(Job::Node(id));
        if n.is_section() && n.doc.fm.paginate_by > 0 {
            let pages = n.pages.len().div_ceil(n.doc.fm.paginate_by);
            for p in 2..=pages {
                jobs.push(Job::SectionPage(id, p));
            }
        }
        for (i, o) in n.doc.fm.outputs.iter().enumerate() {
            if tera.get_template_names().any(|x| x == o.value) {
                jobs.push(Job::Extra(id, i));
            } else {
                diags.push(
                    Diagnostic::error(
                        &n.doc.src.shown,
                        format!("no template `{}` for this output", o.value),
                    )
                    .at(&n.doc.src.text, o.offset)
                    .with_hint(format!(
                        "create templates/{} in the site or the theme",
                        o.value
                    )),
                );
            }
        }
        if let Some(t) = &n.doc.fm.template {
            diags.extend(check_page_template(n, t, tera));
        }
    }
    if !diags.is_empty() {
        return (Vec::new(), diags);
    }
    jobs.push(Job::KeywordIndex);
    jobs.extend((0..keywords.list.len()).map(Job::Keyword));
    let has = |name: &str| tera.get_template_names().any(|x| x == name);
    if settings.target.search && has("search.html") {
        jobs.push(Job::Special("search.html", SEARCH_PATH));
    }
    if has("404.html") {
        jobs.push(Job::Special("404.html", "/404.html"));
    }

    let selected: Vec<&Job> = jobs.iter().filter(|job| select(job)).collect();
    // Summaries of the nodes that the selected listings show (all of them in a full build,
    // a few when the dev server re-renders one page's dependants).
    let mut needed = vec![false; site.nodes.len()];
    for job in &selected {
        match **job {
            Job::Node(id) | Job::SectionPage(id, _) | Job::Extra(id, _) => {
                let n = &site.nodes[id];
                if n.is_section() {
                    for &p in n.pages.iter().chain(&n.subsections) {
                        needed[p] = true;
                    }
                    if templates
                        .all_pages
                        .contains(&node_template(site, tera, job, id))
                    {
                        for p in all_pages(&site.nodes, id) {
                            needed[p] = true;
                        }
                    }
                }
            }
            Job::Keyword(k) => {
                for &p in &keywords.list[k].pages {
                    needed[p] = true;
                }
            }
            Job::KeywordIndex | Job::Special(..) => {}
        }
    }
    let compute = |ids: &[usize]| -> Vec<(usize, Value)> {
        ids.par_iter()
            .map(|&id| {
                (
                    id,
                    serde_json::to_value(ctx.summary(id)).unwrap_or(Value::Null),
                )
            })
            .collect()
    };
    let mut local: Vec<Value> = Vec::new();
    let mut guard =
        summary_cache.map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let store: &mut Vec<Value> = match guard.as_deref_mut() {
        Some(cache) => cache,
        None => &mut local,
    };
    store.resize(site.nodes.len(), Value::Null);
    let missing: Vec<usize> = (0..site.nodes.len())
        .filter(|&i| needed[i] && store[i].is_null())
        .collect();
    for (id, v) in compute(&missing) {
        store[id] = v;
    }
    let ctx = Ctx {
        summaries: store.as_slice(),
        ..ctx
    };
    // One context per worker, reused: cloning `site` and `t` for every page costs more than
    // rendering small pages.
    let results: Vec<Result<Output, Box<Failure>>> = selected
        .par_iter()
        .map_init(
            || base.clone(),
            |c, job| {
                let out = render_job(&ctx, templates, c, keyword_html, job, menu.as_ref());
                progress.inc(1);
                match (out, emit) {
                    (Ok(o), Some(emit)) => {
                        emit(&o);
                        Ok(Output {
                            bytes: Vec::new(),
                            ..o
                        })
                    }
                    (out, _) => out,
                }
            },
        )
        .collect();
    let mut outputs = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(o) => outputs.push(o),
            Err(f) => failures.push(*f),
        }
    }
    diags.extend(merge_failures(failures));
    (outputs, diags)
}

/// A template named in front matter must exist and be an HTML template: the page is written
/// as `index.html`, and only `.html` templates escape what editors write (a `.csv` or `.json`
/// template would put their markup into the page raw).
fn check_page_template(n: &Node, t: &At<String>, tera: &Tera) -> Option<Diagnostic> {
    let err = |msg: String| Diagnostic::error(&n.doc.src.shown, msg).at(&n.doc.src.text, t.offset);
    if !tera.get_template_names().any(|x| x == t.value) {
        let names: Vec<&str> = tera.get_template_names().collect();
        return Some(
            err(format!("template `{}` not found", t.value)).with_hint(
                did_you_mean(&t.value, names.iter().copied())
                    .unwrap_or_else(|| "put it in templates/ of the site or of the theme".into()),
            ),
        );
    }
    if !t.value.ends_with(".html") {
        return Some(
            err(format!("template `{}` is not an HTML template", t.value)).with_hint(
                "a page is written as HTML: choose a template ending in .html (such as page.html); \
                 files such as projekte.csv belong in `outputs`",
            ),
        );
    }
    None
}

/// A template that failed while rendering one page.
pub(crate) struct Failure {
    diag: Diagnostic,
    /// The page (or other source) being rendered.
    page: PathBuf,
}

/// One diagnostic per place in a template, naming the first page it failed on and how many
/// more (a mistake in `page.html` would otherwise be reported once for every page).
fn merge_failures(failures: Vec<Failure>) -> Vec<Diagnostic> {
    let mut merged: Vec<(Failure, usize)> = Vec::new();
    let mut index: HashMap<(PathBuf, usize, usize, String), usize> = HashMap::new();
    for f in failures {
        let d = &f.diag;
        let key = (d.path.clone(), d.line, d.col, d.message.clone());
        match index.get(&key) {
            Some(&i) => merged[i].1 += 1,
            None => {
                index.insert(key, merged.len());
                merged.push((f, 0));
            }
        }
    }
    merged
        .into_iter()
        .map(|(f, more)| {
            let page = f.page.to_string_lossy().replace('\\', "/");
            let while_ = match more {
                0 => format!("while rendering {page}"),
                1 => format!("while rendering {page} (and 1 more page)"),
                n => format!("while rendering {page} (and {n} more pages)"),
            };
            let hint = f.diag.hint.clone().unwrap_or_default();
            f.diag.with_hint(format!("{while_}; {hint}"))
        })
        .collect()
}

/// Why a render stopped: Tera's error, or an output over its cap (bytes).
pub(crate) enum RenderError {
    Tera(tera::Error),
    TooLarge(usize),
}

impl From<tera::Error> for RenderError {
    fn from(e: tera::Error) -> Self {
        RenderError::Tera(e)
    }
}

/// Collects a render's output, refusing more than `cap` bytes.
struct CappedWriter {
    bytes: Vec<u8>,
    cap: usize,
    full: bool,
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.cap {
            self.full = true;
            return Err(std::io::Error::other("output too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders `name` with a fresh evaluation budget and a cap on the output size.
fn render_capped(
    tera: &Tera,
    budget: &Budget,
    name: &str,
    c: &Context,
    cap: usize,
) -> Result<String, RenderError> {
    budget.reset();
    let mut w = CappedWriter {
        bytes: Vec::new(),
        cap,
        full: false,
    };
    let result = tera.render_to(name, c, &mut w);
    if w.full {
        return Err(RenderError::TooLarge(cap));
    }
    result?;
    String::from_utf8(w.bytes)
        .map_err(|_| RenderError::Tera(tera::Error::msg("the output is not valid UTF-8")))
}

/// A failed render as a diagnostic in the template, at the tag or name that caused it.
fn failure(
    e: RenderError,
    templates: &Templates,
    template: &str,
    page: &std::path::Path,
) -> Box<Failure> {
    let diag = match e {
        RenderError::TooLarge(cap) => guard::at_template(
            &templates.sources,
            template,
            None,
            format!(
                "the output of template `{template}` is larger than {} MiB",
                cap >> 20
            ),
        )
        .with_hint("a loop or macro prints far too much; print less"),
        RenderError::Tera(e) => render_error(&e, templates, template),
    };
    Box::new(Failure {
        diag,
        page: page.to_path_buf(),
    })
}

/// Tera's render error at the template Tera names last (the innermost: a macro's or an
/// included template's) or one of the rendered template's parents (Tera says only "error
/// happened in a parent template"), placed at the variable, filter, function or test it names.
fn render_error(e: &tera::Error, templates: &Templates, template: &str) -> Diagnostic {
    let sources = &templates.sources;
    let chain = error_chain(e);
    if let Some(stop) = chain.iter().find_map(|m| guard::Stop::decode(m)) {
        return stop.diagnostic(sources);
    }
    let inner = chain
        .iter()
        .rev()
        .find_map(|m| {
            quoted_after(m, "while rendering '", '\'')
                .or_else(|| quoted_after(m, "Failed to render '", '\''))
        })
        .filter(|t| sources.contains_key(t))
        .unwrap_or_else(|| template.to_string());
    let mut candidates = vec![inner.clone(), template.to_string()];
    if let Ok(t) = templates.tera.get_template(template) {
        candidates.extend(t.parents.iter().cloned());
    }
    let (place, offset) = candidates
        .iter()
        .find_map(|c| {
            let (_, text) = sources.get(c)?;
            Some((c.clone(), named_in_error(&chain, text)?))
        })
        .map_or((inner, None), |(c, o)| (c, Some(o)));
    let message: Vec<&str> = chain
        .iter()
        .map(String::as_str)
        .filter(|m| !m.starts_with("Failed to render '"))
        .collect();
    let message = if message.is_empty() {
        chain.join(": ")
    } else {
        message.join(": ")
    };
    guard::at_template(
        sources,
        &place,
        offset,
        format!("template error: {message}"),
    )
    .with_hint("check the template; every value it uses is listed in docs/theme-contract.md")
}

/// The text between `pre` (its last occurrence in `m`) and `close`.
fn quoted_after(m: &str, pre: &str, close: char) -> Option<String> {
    let rest = &m[m.rfind(pre)? + pre.len()..];
    Some(rest[..rest.find(close)?].to_string())
}

/// Where in `text` the variable, filter, function, test or macro that an error message of
/// `chain` names is used.
fn named_in_error(chain: &[String], text: &str) -> Option<usize> {
    const NAMES: [(&str, char); 8] = [
        ("Variable `", '`'),
        ("Filter '", '\''),
        ("Function '", '\''),
        ("Test '", '\''),
        ("Function call '", '\''),
        ("Filter call '", '\''),
        ("Test call '", '\''),
        ("Macro `", '`'),
    ];
    chain.iter().rev().find_map(|m| {
        NAMES.iter().find_map(|(pre, close)| {
            let name = quoted_after(m, pre, *close)?;
            guard::name_in_tags(text, &name).or_else(|| {
                // A dotted path may be written with brackets or split over a `set`.
                let last = name.rsplit('.').next()?;
                guard::name_in_tags(text, last)
            })
        })
    })
}

/// The template a node's job renders with: an extra output's own, the front matter's, the
/// content type's (`projekt.html`) if the theme has it, or the default for its kind.
fn node_template(site: &Site, tera: &Tera, job: &Job, id: usize) -> String {
    let n = &site.nodes[id];
    if let Job::Extra(_, i) = *job {
        return n.doc.fm.outputs[i].value.clone();
    }
    match &n.doc.fm.template {
        Some(t) => t.value.clone(),
        None if n.is_section() && id == site.home => "index.html".into(),
        None if n.is_section() => "section.html".into(),
        None => n
            .doc
            .fm
            .doc_type
            .as_ref()
            .map(|t| format!("{t}.html"))
            .filter(|t| tera.get_template_names().any(|x| x == t))
            .unwrap_or_else(|| "page.html".into()),
    }
}

/// HTML of the keyword description pages, rendered by the links stage.
#[derive(Debug, Default)]
pub(crate) struct KeywordHtml {
    pub index: String,
    pub index_title: Option<String>,
    pub index_description: String,
    /// By keyword index.
    pub descriptions: HashMap<usize, String>,
}

fn paginated_path(path: &str, page: usize) -> String {
    if page <= 1 {
        path.to_string()
    } else {
        format!("{path}seite/{page}/")
    }
}

fn render_job(
    ctx: &Ctx<'_>,
    templates: &Templates,
    c: &mut Context,
    kw_html: &KeywordHtml,
    job: &Job,
    menu: Option<&MenuCache<'_>>,
) -> Result<Output, Box<Failure>> {
    let tera = &templates.tera;
    // The per-job values of the previous job on this worker.
    for key in ["page", "section", "keyword", "keywords", "breadcrumbs"] {
        c.remove(key);
    }
    let settings = ctx.settings;
    // A page's own content may be printed a few times: the output cap grows with it.
    let own_content = match *job {
        Job::Node(id) | Job::SectionPage(id, _) | Job::Extra(id, _) => ctx.bodies[id].html.len(),
        _ => 0,
    };
    let (template, path, source): (String, String, PathBuf) = match *job {
        Job::Node(id) | Job::SectionPage(id, _) | Job::Extra(id, _) => {
            let n = &ctx.site.nodes[id];
            let page_no = match *job {
                Job::SectionPage(_, p) => p,
                _ => 1,
            };
            let path = paginated_path(&n.path, page_no);
            let template = node_template(ctx.site, tera, job, id);
            if n.is_section() {
                let per = n.doc.fm.paginate_by;
                let (slice, paginator) = if per > 0 {
                    let total = n.pages.len().div_ceil(per).max(1);
                    let start = (page_no - 1) * per;
                    let slice =
                        &n.pages[start.min(n.pages.len())..(start + per).min(n.pages.len())];
                    let link = |p: usize| ctx.permalink(&paginated_path(&n.path, p));
                    let pager = PaginatorView {
                        current: page_no,
                        total,
                        first: link(1),
                        last: link(total),
                        prev: (page_no > 1).then(|| link(page_no - 1)),
                        next: (page_no < total).then(|| link(page_no + 1)),
                        pages: (1..=total)
                            .map(|p| PagerLink {
                                number: p,
                                permalink: link(p),
                                current: p == page_no,
                            })
                            .collect(),
                    };
                    (slice, Some(pager))
                } else {
                    (&n.pages[..], None)
                };
                let view = SectionView {
                    page: ctx.page(id),
                    pages: slice.iter().map(|&p| &ctx.summaries[p]).collect(),
                    subsections: n.subsections.iter().map(|&s| &ctx.summaries[s]).collect(),
                    paginator,
                    all_pages: if templates.all_pages.contains(&template) {
                        all_pages(&ctx.site.nodes, id)
                            .into_iter()
                            .map(|p| &ctx.summaries[p])
                            .collect()
                    } else {
                        Vec::new()
                    },
                };
                c.insert("section", &view);
            } else {
                c.insert("page", &ctx.page(id));
            }
            (template, path, n.doc.src.shown.clone())
        }
        Job::Special(template, path) => {
            c.insert("breadcrumbs", &[ctx.link(ctx.site.home)]);
            (
                template.to_string(),
                path.to_string(),
                PathBuf::from(template),
            )
        }
        Job::KeywordIndex => {
            let path = format!("/{}/", settings.keywords.path);
            let mut letters: Vec<String> = ('A'..='Z').map(|c| c.to_string()).collect();
            letters.push("#".into());
            let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
            for (i, k) in ctx.keywords.list.iter().enumerate() {
                let l = crate::collate::index_letter(&k.name);
                match groups.iter_mut().find(|(g, _)| *g == l) {
                    Some((_, v)) => v.push(i),
                    None => groups.push((l, vec![i])),
                }
            }
            // "#" (digits, symbols) after Z, as in printed indexes.
            groups.sort_by_key(|(l, _)| (l == "#", l.clone()));
            let anchor = |l: &str| {
                if l == "#" {
                    "zeichen".to_string()
                } else {
                    format!("buchstabe-{}", l.to_lowercase())
                }
            };
            let view = json!({
                "title": kw_html.index_title.clone(),
                "description": kw_html.index_description,
                "content": kw_html.index,
                "total": ctx.keywords.list.len(),
                "permalink": ctx.permalink(&path),
                "letters": letters.iter().map(|l| json!({
                    "letter": l,
                    "anchor": anchor(l),
                    "present": groups.iter().any(|(g, _)| g == l),
                })).collect::<Vec<_>>(),
                "groups": groups.iter().map(|(l, ks)| json!({
                    "letter": l,
                    "anchor": anchor(l),
                    "keywords": ks.iter().map(|&k| ctx.keyword_view(k)).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            });
            c.insert("keywords", &view);
            (
                "keywords.html".into(),
                path,
                PathBuf::from(format!("content/{}", settings.keywords.path)),
            )
        }
        Job::Keyword(k) => {
            let kw = &ctx.keywords.list[k];
            let path = ctx.keyword_path(&kw.slug);
            let index_path = format!("/{}/", settings.keywords.path);
            let view = KeywordPageView {
                name: &kw.name,
                slug: &kw.slug,
                permalink: ctx.permalink(&path),
                count: kw.pages.len(),
                content: kw_html.descriptions.get(&k).map_or("", String::as_str),
                pages: kw.pages.iter().map(|&p| &ctx.summaries[p]).collect(),
                related: kw
                    .related
                    .iter()
                    .map(|&(r, shared)| RelatedView {
                        keyword: ctx.keyword_view(r),
                        shared,
                    })
                    .collect(),
                see_also: kw.see_also.iter().map(|&s| ctx.keyword_view(s)).collect(),
                breadcrumbs: [
                    ctx.link(ctx.site.home),
                    LinkView {
                        title: &ctx.keywords_title,
                        permalink: ctx.permalink(&index_path),
                        path: &index_path,
                    },
                ],
            };
            c.insert("keyword", &view);
            let source = kw.description.as_ref().map_or_else(
                || PathBuf::from(format!("keyword `{}`", kw.name)),
                |d| d.src.shown.clone(),
            );
            ("keyword.html".into(), path, source)
        }
    };
    let current_url = ctx.permalink(&path);
    if let Some(menu) = menu {
        let html = menu
            .html(menu.state(&path, &current_url))
            .map_err(|e| failure(e, templates, MENU_TEMPLATE, &source))?;
        c.insert("menu_html", html.as_str());
    }
    c.insert("current_path", &path);
    c.insert("current_url", &current_url);
    let file = match job {
        Job::Extra(..) => template.clone(),
        Job::Special(_, p) if !p.ends_with('/') => String::new(),
        _ => "index.html".to_string(),
    };
    let cap = guard::MAX_OUTPUT.saturating_add(guard::OUTPUT_PER_INPUT.saturating_mul(own_content));
    let html = render_capped(tera, &templates.budget, &template, c, cap)
        .map_err(|e| failure(e, templates, &template, &source))?;
    // `{% extends %}` leaves a newline before the doctype.
    let html = match html.find(|c: char| !c.is_whitespace()) {
        Some(0) | None => html,
        Some(i) => html[i..].to_string(),
    };
    Ok(Output {
        rel: format!("{}{file}", path.trim_start_matches('/')),
        bytes: html.into_bytes(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_slashes() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a> https://e.org/"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; https://e.org/"
        );
    }

    #[test]
    fn german_money_format() {
        assert_eq!(format_de(111_500_000), "1.115.000,00");
        assert_eq!(format_de(14_400_000), "144.000,00");
        assert_eq!(format_de(5), "0,05");
        assert_eq!(format_de(-123_456), "-1.234,56");
    }

    #[test]
    fn dm_to_euro_uses_the_fixed_rate() {
        // 1.95583 DM = 1 EUR
        assert_eq!(dm_to_euro_cents(195_583), 100_000);
        // 1.115.000,00 DM = 570.090,45 EUR (1115000 / 1.95583 = 570090.4475…)
        assert_eq!(dm_to_euro_cents(111_500_000), 57_009_045);
        assert_eq!(dm_to_euro_cents(-195_583), -100_000);
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_neutralised() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
        for s in [
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "\u{ff1d}1+1",
            "-",
            "+49 30 1234",
        ] {
            assert_eq!(csv_field(s), format!("\"'{s}\""), "{s:?}");
        }
        for s in ["-5", "+5", "-1.234,56", "1.234,56", "Stadt", "", "a=b"] {
            assert_eq!(csv_field(s), format!("\"{s}\""), "{s:?}");
        }
    }

    #[test]
    fn css_strings_cannot_break_out() {
        let s = css_string("https://e.org/</style><svg/onload=alert(1)>\"'\\\n");
        assert_eq!(
            s,
            "https://e.org/\\3c /style\\3e \\3c svg/onload=alert\\28 1\\29 \\3e \\22 \\27 \\5c \\a "
        );
        assert_eq!(escape_html(&s), s);
        assert_eq!(
            css_string("https://bü.de:8080/a-b_c/"),
            "https://bü.de:8080/a-b_c/"
        );
    }

    #[test]
    fn pest_positions_are_found() {
        assert_eq!(pest_position("  --> 3:14\n  |"), Some((3, 14)));
        assert_eq!(line_col_offset("ab\ncd\n", 2, 2), 4);
    }
}
