//! Stage 2: split front matter from body and validate it against the built-in keys and the
//! declared content types.
//!
//! Takes the [`SourceFile`]s of stage 1 and returns one [`Document`] per file that parsed, plus
//! every problem found (all of them, not just the first).

use crate::hash::HashMap;
use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::config::{ContentType, FieldDef, FieldKind, Settings};
use crate::error::{did_you_mean, Diagnostic};
use crate::model::{
    At, Date, Document, FieldValue, FrontMatter, Kind, SortBy, SourceFile, RESERVED_KEYS,
};
use crate::text;

const SECTION_ONLY_KEYS: &[&str] = &["sort_by", "paginate_by", "page_type", "outputs"];

/// What stage one of parsing keeps per file: the split and the raw TOML entries.
struct Split<'a> {
    src: &'a SourceFile,
    /// Position of `src` in the files given to `parse_with`.
    index: usize,
    kind: Kind,
    fm_offset: usize,
    body_offset: usize,
    entries: Vec<(Spanned<String>, Spanned<DeValue<'a>>)>,
}

/// Parses every file. `memo` (the dev server's, from the previous run) spares the files whose
/// text and inherited content type did not change; it is updated to this run's files.
pub(crate) fn parse(
    settings: &Settings,
    files: &[SourceFile],
    memo: &mut Memo,
) -> (Vec<Arc<Document>>, Vec<Diagnostic>) {
    // Each file's previous parse, if its text is the same (looked up once).
    let prev: Vec<Option<&Parsed>> = (files.par_iter().enumerate())
        .map(|(i, f)| memo.same_text(i, f))
        .collect();
    // 1. Split and read TOML (in parallel) where the file is new or changed.
    let splits: Vec<Option<Result<Split<'_>, Vec<Diagnostic>>>> = files
        .par_iter()
        .zip(&prev)
        .enumerate()
        .map(|(index, (f, p))| p.is_none().then(|| split(f, index)))
        .collect();
    // 2. The `page_type` each section gives to the pages below it.
    let section_types = section_types(files, &splits, &prev);
    // The same types as last time: an unchanged file inherits what it inherited then.
    let same_types = memo.section_types.as_ref() == Some(&section_types);
    // 3. Validate each file's keys against its type, unless the memo has the same case.
    let fresh: Vec<Option<Parsed>> = files
        .par_iter()
        .zip(splits)
        .zip(&prev)
        .enumerate()
        .map(|(index, ((f, s), p))| {
            if p.is_some() && same_types {
                return None;
            }
            let inherited = inherited_type(&section_types, parent_dir(&f.rel));
            match p {
                Some(m) if m.inherited.as_ref() == inherited => None,
                _ => Some(parse_one(
                    settings,
                    &section_types,
                    f,
                    s,
                    index,
                    inherited.cloned(),
                )),
            }
        })
        .collect();
    let mut docs = Vec::with_capacity(files.len());
    let mut diags = Vec::new();
    for (p, f) in prev.iter().zip(&fresh) {
        match f.as_ref().or(*p).map(|p| &p.result) {
            Some(Ok(d)) => docs.push(d.clone()),
            Some(Err(d)) => diags.extend(d.iter().cloned()),
            None => {}
        }
    }
    drop(prev);
    memo.update(files, fresh);
    memo.section_types = Some(section_types);
    (docs, diags)
}

/// The `page_type` each section gives to the pages below it, by folder.
fn section_types(
    files: &[SourceFile],
    splits: &[Option<Result<Split<'_>, Vec<Diagnostic>>>],
    prev: &[Option<&Parsed>],
) -> BTreeMap<String, String> {
    let mut types = BTreeMap::new();
    for ((f, s), p) in files.iter().zip(splits).zip(prev) {
        let own = match s {
            Some(Ok(s)) => s.own_page_type(),
            Some(Err(_)) => None,
            None => p.and_then(|m| m.page_type.clone()),
        };
        if let Some(t) = own {
            types.insert(parent_dir(&f.rel).to_string(), t);
        }
    }
    types
}

/// Splits (unless already split) and validates one file.
fn parse_one(
    settings: &Settings,
    section_types: &BTreeMap<String, String>,
    f: &SourceFile,
    split_done: Option<Result<Split<'_>, Vec<Diagnostic>>>,
    index: usize,
    inherited: Option<String>,
) -> Parsed {
    let split_done = split_done.unwrap_or_else(|| split(f, index));
    let page_type = split_done.as_ref().ok().and_then(Split::own_page_type);
    let result = split_done
        .and_then(|s| validate(settings, section_types, s))
        .map(|(_, mut d)| {
            d.src = f.clone();
            Arc::new(d)
        });
    Parsed {
        text: f.text.clone(),
        page_type,
        inherited,
        result,
    }
}

/// What parsing kept of each file for the next run.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// In the last run's file order, with each path's position.
    files: Vec<(String, Parsed)>,
    position: HashMap<String, usize>,
    /// The section types of the last run.
    section_types: Option<BTreeMap<String, String>>,
}

/// One file's parse: the text it was made from, the section's own `page_type` (the pages
/// below inherit it), the type it inherited, and the document or its errors.
#[derive(Debug, Clone)]
struct Parsed {
    text: Arc<str>,
    page_type: Option<String>,
    inherited: Option<String>,
    result: Result<Arc<Document>, Vec<Diagnostic>>,
}

impl Memo {
    /// Keeps this run's parses (`fresh`, else the memo's) in this run's file order.
    fn update(&mut self, files: &[SourceFile], fresh: Vec<Option<Parsed>>) {
        let same_order = self.files.len() == files.len()
            && (self.files.iter().zip(files)).all(|((rel, _), f)| *rel == f.rel);
        if same_order {
            for (kept, p) in self.files.iter_mut().zip(fresh) {
                if let Some(p) = p {
                    kept.1 = p;
                }
            }
            return;
        }
        let mut old: HashMap<String, Parsed> =
            std::mem::take(&mut self.files).into_iter().collect();
        self.files = files
            .iter()
            .zip(fresh)
            .filter_map(|(f, p)| Some((f.rel.clone(), p.or_else(|| old.remove(&f.rel))?)))
            .collect();
        self.position = (self.files.iter().enumerate())
            .map(|(i, (rel, _))| (rel.clone(), i))
            .collect();
    }

    /// The previous parse of `f` (at `index` in this run's files), if its text is the same.
    fn same_text(&self, index: usize, f: &SourceFile) -> Option<&Parsed> {
        let at = match self.files.get(index) {
            Some((rel, _)) if *rel == f.rel => index,
            _ => *self.position.get(&f.rel)?,
        };
        let (_, kept) = self.files.get(at)?;
        Some(kept).filter(|m| Arc::ptr_eq(&m.text, &f.text) || m.text == f.text)
    }
}

impl Split<'_> {
    /// A section's own `page_type`.
    fn own_page_type(&self) -> Option<String> {
        if self.kind != Kind::Section {
            return None;
        }
        let (_, v) = self
            .entries
            .iter()
            .find(|(k, _)| k.get_ref() == "page_type")?;
        v.get_ref().as_str().map(str::to_string)
    }
}

/// The folder of a content file: `a/b/_index.md` → `a/b`, `a/b/c.md` → `a/b`.
pub(crate) fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn is_delimiter(line: &str) -> bool {
    line.trim_end() == "+++"
}

/// Which multi-line TOML string a front matter line ends inside of, if any.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    Basic,
    Literal,
}

/// The state after `line`, starting in `open`: a `+++` line inside a multi-line string is
/// text, not the end of the front matter.
fn lex_line(line: &str, mut open: Open) -> Open {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        match open {
            // An escape: the character after the backslash (a quote, too) is text.
            Open::Basic if rest[0] == b'\\' => i += 2,
            Open::Basic if rest.starts_with(b"\"\"\"") => (open, i) = (Open::Nothing, i + 3),
            Open::Literal if rest.starts_with(b"'''") => (open, i) = (Open::Nothing, i + 3),
            Open::Basic | Open::Literal => i += 1,
            Open::Nothing if rest.starts_with(b"\"\"\"") => (open, i) = (Open::Basic, i + 3),
            Open::Nothing if rest.starts_with(b"'''") => (open, i) = (Open::Literal, i + 3),
            Open::Nothing => match rest[0] {
                b'#' => return open,
                q @ (b'"' | b'\'') => {
                    // A one-line string: to its closing quote (escapes only in "…").
                    i += 1;
                    while i < b.len() && b[i] != q {
                        i += if q == b'"' && b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                _ => i += 1,
            },
        }
    }
    open
}

/// Splits `+++ … +++` from the body; byte offsets are of the whole file. A byte order mark
/// before the first `+++` is skipped (editors on Windows write one).
pub(crate) fn split_front_matter(text: &str) -> Result<(usize, usize, usize), (String, String)> {
    if text.trim().is_empty() {
        return Err((
            "file is empty".into(),
            "a page starts with front matter: +++, title = \"…\", +++".into(),
        ));
    }
    let start = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    let first_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    if !is_delimiter(&text[start..first_end]) {
        return Err(missing_front_matter(
            &text[start..],
            &text[start..first_end],
        ));
    }
    let fm_start = (first_end + 1).min(text.len());
    let mut pos = fm_start;
    let mut open = Open::Nothing;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let line = &text[pos..end];
        if open == Open::Nothing && is_delimiter(line) {
            let body = (end + 1).min(text.len());
            return Ok((fm_start, pos, body));
        }
        open = lex_line(line, open);
        pos = end + 1;
    }
    let hint = if open == Open::Nothing {
        "add a line with only `+++` after the front matter"
    } else {
        "a multi-line string (\"\"\" or ''') is not closed, so the `+++` after it counts as text; close the string"
    };
    Err((
        "unclosed front matter: no closing `+++` line".into(),
        hint.into(),
    ))
}

/// The error for a file without `+++` at the top; YAML front matter gets its TOML equivalent.
fn missing_front_matter(text: &str, first_line: &str) -> (String, String) {
    if first_line.trim_end() == "---" {
        let yaml_end = text[first_line.len()..]
            .find("\n---")
            .map_or(text.len(), |i| first_line.len() + i);
        let yaml = text.get(first_line.len()..yaml_end).unwrap_or("");
        let hint = match yaml::to_toml(yaml) {
            Some(toml) => format!(
                "front matter is TOML between `+++` lines; as TOML this is:\n{}",
                toml.lines()
                    .map(|l| format!("      {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            None => "front matter is TOML between `+++` lines: +++ / title = \"…\" / +++".into(),
        };
        return ("YAML front matter (`---`) is not supported".into(), hint);
    }
    (
        "missing front matter: the file must start with a `+++` line".into(),
        "put the page's TOML front matter between two `+++` lines at the top, e.g. +++ / title = \"…\" / +++".into(),
    )
}

fn split(src: &SourceFile, index: usize) -> Result<Split<'_>, Vec<Diagnostic>> {
    let kind = if src.rel == "_index.md" || src.rel.ends_with("/_index.md") {
        Kind::Section
    } else {
        Kind::Page
    };
    if let Some(d) = text::forbidden_in_file(&src.shown, &src.text) {
        return Err(vec![d]);
    }
    let (fm_start, fm_end, body) = split_front_matter(&src.text).map_err(|(msg, hint)| {
        vec![Diagnostic::error(&src.shown, msg)
            .at(&src.text, 0)
            .with_hint(hint)]
    })?;
    let fm = &src.text[fm_start..fm_end];
    let (table, errors) = DeTable::parse_recoverable(fm);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| {
                let off = fm_start + e.span().map_or(0, |s| s.start);
                Diagnostic::error(
                    &src.shown,
                    format!("invalid TOML in front matter: {}", e.message().trim()),
                )
                .at(&src.text, off)
                .with_hint("front matter is TOML: key = \"text\", key = 1, key = [\"a\", \"b\"]")
            })
            .collect());
    }
    let entries: Vec<_> = table
        .into_inner()
        .into_iter()
        .map(|(k, v)| {
            let span = k.span();
            (Spanned::new(span, k.into_inner().into_owned()), v)
        })
        .collect();
    let forbidden = text::forbidden_in_toml(&src.shown, &src.text, fm_start, &entries);
    if !forbidden.is_empty() {
        return Err(forbidden);
    }
    Ok(Split {
        src,
        index,
        kind,
        fm_offset: fm_start,
        body_offset: body,
        entries,
    })
}

/// Collects problems of one file with their places.
struct FileCheck<'a> {
    src: &'a SourceFile,
    fm_offset: usize,
    errors: Vec<Diagnostic>,
}

impl FileCheck<'_> {
    fn err<T>(
        &mut self,
        span_start: usize,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) -> Option<T> {
        self.errors.push(
            Diagnostic::error(&self.src.shown, msg)
                .at(&self.src.text, self.fm_offset + span_start)
                .with_hint(hint),
        );
        None
    }

    fn string(&mut self, key: &str, v: &Spanned<DeValue<'_>>) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => self.err(
                v.span().start,
                format!("`{key}` must be a string, found {}", other.type_str()),
                format!("write it in quotes: {key} = \"…\""),
            ),
        }
    }

    fn boolean(&mut self, key: &str, v: &Spanned<DeValue<'_>>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => self.err(
                v.span().start,
                format!("`{key}` must be true or false, found {}", other.type_str()),
                format!("write {key} = true or {key} = false (without quotes)"),
            ),
        }
    }

    fn integer(&mut self, key: &str, v: &Spanned<DeValue<'_>>) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => {
                match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) => Some(n),
                    Err(_) => self.err(
                        v.span().start,
                        format!("`{key}` is out of range"),
                        "use a smaller number",
                    ),
                }
            }
            other => self.err(
                v.span().start,
                format!("`{key}` must be an integer, found {}", other.type_str()),
                format!("write a whole number without quotes: {key} = 1"),
            ),
        }
    }

    fn date(&mut self, key: &str, v: &Spanned<DeValue<'_>>) -> Option<Date> {
        let parsed = match v.get_ref() {
            DeValue::Datetime(dt) => dt.date.map(|d| Date {
                year: d.year,
                month: d.month,
                day: d.day,
            }),
            DeValue::String(s) => parse_iso_date(s),
            _ => None,
        };
        match parsed {
            Some(d) => Some(d),
            None => self.err(
                v.span().start,
                format!("`{key}` must be a date, found {}", describe(v.get_ref())),
                format!("write the date as YYYY-MM-DD without quotes, e.g. {key} = 2001-01-06"),
            ),
        }
    }

    fn string_list(&mut self, key: &str, v: &Spanned<DeValue<'_>>) -> Option<Vec<At<String>>> {
        let DeValue::Array(items) = v.get_ref() else {
            return self.err(
                v.span().start,
                format!(
                    "`{key}` must be a list of strings, found {}",
                    v.get_ref().type_str()
                ),
                format!("write {key} = [\"…\", \"…\"]"),
            );
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(At {
                    value: s.to_string(),
                    offset: self.fm_offset + item.span().start,
                }),
                other => {
                    self.err::<()>(
                        item.span().start,
                        format!(
                            "`{key}` must contain only strings, found {}",
                            other.type_str()
                        ),
                        "put each entry in quotes",
                    );
                }
            }
        }
        Some(out)
    }
}

fn describe(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("\"{s}\""),
        other => other.type_str().to_string(),
    }
}

/// A date in quotes: exactly `YYYY-MM-DD` (no sign, no junk after it, a real day).
fn parse_iso_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .and_then(|_| s.get(r))
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: u16 = digits(0..4)?.parse().ok()?;
    let m: u8 = digits(5..7)?.parse().ok()?;
    let d: u8 = digits(8..10)?.parse().ok()?;
    valid_date(y, m, d).then_some(Date {
        year: y,
        month: m,
        day: d,
    })
}

fn valid_date(y: u16, m: u8, d: u8) -> bool {
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    d >= 1 && d <= days
}

/// Parses an amount in German notation (`1.115.000,00`, optional currency suffix) into cents:
/// digits, thousands dots every three digits (or none), a comma with one or two decimals. No
/// sign: funding amounts are never negative.
pub(crate) fn parse_money_de(s: &str, currency: &str) -> Result<i64, String> {
    let mut t = s.trim();
    if let Some(rest) = t.strip_suffix(currency) {
        t = rest.trim_end();
    } else if t.ends_with(|c: char| c.is_alphabetic() || c == '€') {
        return Err(format!("the currency must be {currency}"));
    }
    if t.starts_with(['-', '+', '−']) {
        return Err("an amount has no sign (funding is never negative)".into());
    }
    let (whole, frac) = match t.split_once(',') {
        Some((w, f)) => (w, Some(f)),
        None => (t, None),
    };
    let frac_ok =
        frac.is_none_or(|f| (1..=2).contains(&f.len()) && f.bytes().all(|c| c.is_ascii_digit()));
    // Thousands separators must sit every three digits.
    let groups: Vec<&str> = whole.split('.').collect();
    let grouped_ok =
        groups.len() == 1 || (groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    let digits_ok = groups
        .iter()
        .all(|g| !g.is_empty() && g.bytes().all(|c| c.is_ascii_digit()));
    if !frac_ok || !grouped_ok || !digits_ok {
        return Err("not an amount".into());
    }
    let units: i64 = groups
        .concat()
        .parse()
        .map_err(|_| "amount too large".to_string())?;
    let cents: i64 = match frac.unwrap_or("") {
        "" => 0,
        f if f.len() == 1 => f.parse::<i64>().map_err(|_| "not an amount")? * 10,
        f => f.parse().map_err(|_| "not an amount")?,
    };
    units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .ok_or_else(|| "amount too large".into())
}

/// A money field written as a TOML integer: whole units, decimal, not negative.
fn money_from_integer(i: &toml::de::DeInteger<'_>) -> Result<i64, (String, String)> {
    let raw = i.as_str();
    if i.radix() != 10 {
        return Err(("not an amount".into(), i.to_string()));
    }
    if raw.starts_with(['-', '+']) {
        return Err((
            "an amount has no sign (funding is never negative)".into(),
            raw.to_string(),
        ));
    }
    raw.replace('_', "")
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(100))
        .ok_or(("amount too large".into(), raw.to_string()))
}

/// The document comes without its source file (filled in by `parse_with`), with the file's index.
fn validate(
    settings: &Settings,
    section_types: &BTreeMap<String, String>,
    s: Split<'_>,
) -> Result<(usize, Document), Vec<Diagnostic>> {
    let mut c = FileCheck {
        src: s.src,
        fm_offset: s.fm_offset,
        errors: Vec::new(),
    };
    let mut fm = FrontMatter::default();
    let ctype = content_type(settings, section_types, &s, &mut c);
    fm.doc_type = ctype.map(|t| t.name.clone());

    let mut title_seen = false;
    let mut typed: BTreeMap<&str, &Spanned<DeValue<'_>>> = BTreeMap::new();
    for (key, v) in &s.entries {
        let k = key.get_ref().as_str();
        let kstart = key.span().start;
        if s.kind == Kind::Page && SECTION_ONLY_KEYS.contains(&k) {
            c.err::<()>(
                kstart,
                format!("`{k}` is only allowed in a section's _index.md"),
                "move it to the _index.md of the folder, or remove it",
            );
            continue;
        }
        title_seen |= k == "title";
        if built_in_key(&mut c, settings, &mut fm, k, v) {
            continue;
        }
        if ctype.is_some_and(|t| t.fields.iter().any(|f| f.name == k)) {
            typed.insert(k, v);
        } else {
            unknown_key(&mut c, k, kstart, ctype, s.kind);
        }
    }
    if !title_seen {
        c.err::<()>(
            0,
            "missing required key `title`",
            "add a line title = \"…\" to the front matter",
        );
    }
    if let Some(t) = ctype {
        typed_fields(&mut c, t, &typed, &mut fm);
    }
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    Ok((
        s.index,
        Document {
            src: SourceFile::default(),
            kind: s.kind,
            fm,
            body_offset: s.body_offset,
        },
    ))
}

/// Which type's fields are allowed here: explicit `type`, else the nearest section's page_type.
fn content_type<'s>(
    settings: &'s Settings,
    section_types: &BTreeMap<String, String>,
    s: &Split<'_>,
    c: &mut FileCheck<'_>,
) -> Option<&'s ContentType> {
    let explicit_type = s
        .entries
        .iter()
        .find(|(k, _)| k.get_ref() == "type")
        .and_then(|(_, v)| {
            v.get_ref()
                .as_str()
                .map(|t| (t.to_string(), v.span().start))
        });
    let inherited = if s.kind == Kind::Page {
        inherited_type(section_types, parent_dir(&s.src.rel))
    } else {
        None
    };
    match (&explicit_type, inherited) {
        (Some((t, off)), _) => {
            let found = settings.types.get(t);
            if found.is_none() {
                let known: Vec<&str> = settings.types.keys().map(String::as_str).collect();
                c.err::<()>(
                    *off,
                    format!("unknown content type `{t}`"),
                    did_you_mean(t, known.iter().copied()).unwrap_or_else(|| {
                        if known.is_empty() {
                            "declare it in config.toml under [types.<name>]".into()
                        } else {
                            format!("declared types are: {}", known.join(", "))
                        }
                    }),
                );
            }
            found
        }
        (None, Some(t)) => settings.types.get(t),
        (None, None) => None,
    }
}

/// Reads a built-in front-matter key into `fm` (reporting a wrong value); false if `k` is none.
fn built_in_key(
    c: &mut FileCheck<'_>,
    settings: &Settings,
    fm: &mut FrontMatter,
    k: &str,
    v: &Spanned<DeValue<'_>>,
) -> bool {
    let at = v.span().start;
    let offset = c.fm_offset + at;
    match k {
        "title" => {
            if let Some(t) = c.string(k, v) {
                check_title(c, &t, at);
                fm.title = text::trim_invisible(&t).to_string();
            }
        }
        "description" => fm.description = c.string(k, v).unwrap_or_default(),
        "date" => fm.date = c.date(k, v),
        "updated" => fm.updated = c.date(k, v),
        "draft" => fm.draft = c.boolean(k, v).unwrap_or(false),
        "intern" => fm.intern = c.boolean(k, v).unwrap_or(false),
        "weight" => fm.weight = c.integer(k, v).unwrap_or(0),
        "slug" => fm.slug = c.string(k, v).map(|value| At { value, offset }),
        "template" => fm.template = c.string(k, v).map(|value| At { value, offset }),
        "suchworte" => {
            fm.suchworte = c.string_list(k, v).unwrap_or_default();
            check_keywords(c, &fm.suchworte, at);
        }
        "type" => {
            c.string(k, v);
        }
        "extra" => match v.get_ref() {
            DeValue::Table(_) => fm.extra = to_json(v.get_ref()),
            other => {
                c.err::<()>(
                    at,
                    format!("`extra` must be a table, found {}", other.type_str()),
                    "write [extra] on its own line followed by key = value lines",
                );
            }
        },
        "sort_by" => {
            if let Some(sb) = c.string(k, v) {
                fm.sort_by = sort_order(c, &sb, at);
            }
        }
        "outputs" => output_names(c, k, v, &mut fm.outputs),
        "paginate_by" => {
            if let Some(n) = c.integer(k, v) {
                if n < 0 {
                    c.err::<()>(
                        at,
                        "`paginate_by` must not be negative",
                        "use 0 for no pagination",
                    );
                }
                fm.paginate_by = usize::try_from(n).unwrap_or(0);
            }
        }
        "page_type" => {
            if let Some(t) = c.string(k, v) {
                check_page_type(c, settings, &t, at);
                fm.page_type = Some(t);
            }
        }
        _ => return false,
    }
    true
}

/// A section's `sort_by`; an unknown order is an error (and sorts by weight).
fn sort_order(c: &mut FileCheck<'_>, sb: &str, at: usize) -> SortBy {
    match sb {
        "weight" => SortBy::Weight,
        "title" => SortBy::Title,
        "date" => SortBy::Date,
        _ => {
            c.err::<()>(
                at,
                format!("unknown sort order `{sb}`"),
                did_you_mean(sb, ["weight", "title", "date"])
                    .unwrap_or_else(|| "use \"weight\", \"title\" or \"date\"".into()),
            );
            SortBy::Weight
        }
    }
}

/// A section's extra `outputs`: plain file names in the section's folder.
fn output_names(
    c: &mut FileCheck<'_>,
    k: &str,
    v: &Spanned<DeValue<'_>>,
    outputs: &mut Vec<At<String>>,
) {
    for o in c.string_list(k, v).unwrap_or_default() {
        let name = o.value.as_str();
        let ok = !name.is_empty()
            && !name.contains(['/', '\\'])
            && !name.starts_with('.')
            && name != "index.html";
        if ok {
            outputs.push(o);
        } else {
            c.errors.push(
                Diagnostic::error(&c.src.shown, format!("invalid output name `{name}`"))
                    .at(&c.src.text, o.offset)
                    .with_hint("an output is a file name such as \"projekte.csv\", rendered by the template of the same name"),
            );
        }
    }
}

/// A section's `page_type` must be a declared content type.
fn check_page_type(c: &mut FileCheck<'_>, settings: &Settings, t: &str, at: usize) {
    if settings.types.contains_key(t) {
        return;
    }
    let known: Vec<&str> = settings.types.keys().map(String::as_str).collect();
    c.err::<()>(
        at,
        format!("unknown content type `{t}`"),
        did_you_mean(t, known.iter().copied())
            .unwrap_or_else(|| "declare it in config.toml under [types.<name>]".into()),
    );
}

/// A key that is neither built in nor a field of the page's type: an error with the nearest
/// known key, or the fields the type has.
fn unknown_key(
    c: &mut FileCheck<'_>,
    k: &str,
    kstart: usize,
    ctype: Option<&ContentType>,
    kind: Kind,
) {
    let mut known: Vec<&str> = RESERVED_KEYS
        .iter()
        .copied()
        .filter(|r| kind == Kind::Section || !SECTION_ONLY_KEYS.contains(r))
        .collect();
    if let Some(t) = ctype {
        known.extend(t.fields.iter().map(|f| f.name.as_str()));
    }
    let hint = did_you_mean(k, known.iter().copied()).unwrap_or_else(|| match ctype {
        Some(t) => format!(
            "pages of type `{}` have the fields: {}",
            t.name,
            t.fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => {
            "remove it, or declare a content type with this field in config.toml and set `type`"
                .into()
        }
    });
    c.err::<()>(kstart, format!("unknown key `{k}`"), hint);
}

/// The fields of the page's content type, in the type's order; a missing required one is an
/// error at the start of the front matter.
fn typed_fields(
    c: &mut FileCheck<'_>,
    t: &ContentType,
    typed: &BTreeMap<&str, &Spanned<DeValue<'_>>>,
    fm: &mut FrontMatter,
) {
    for f in &t.fields {
        match typed.get(f.name.as_str()) {
            Some(v) => {
                if let Some(val) = field_value(c, f, v) {
                    fm.fields.push((f.name.clone(), val));
                }
            }
            None if f.required => {
                c.err::<()>(
                    0,
                    format!("missing required field `{}` of type `{}`", f.name, t.name),
                    format!("add `{} = …` ({})", f.name, f.kind.describe()),
                );
            }
            None => {}
        }
    }
}

/// A title must show something: not blank, not only invisible characters.
fn check_title(c: &mut FileCheck<'_>, title: &str, at: usize) {
    if title.trim().is_empty() {
        c.err::<()>(at, "`title` is empty", "give the page a title");
    } else if text::is_blank(title) {
        let shown: Vec<String> = title.chars().map(text::code_point).collect();
        c.err::<()>(
            at,
            format!("`title` has only invisible characters ({})", shown.join(" ")),
            "give the page a title with letters or digits; zero-width spaces, non-breaking spaces, soft hyphens and the like show nothing",
        );
    }
}

/// Keywords are short and few: a limit keeps the look-alike check and the related-keyword
/// counts fast on any input.
fn check_keywords(c: &mut FileCheck<'_>, keywords: &[At<String>], list_at: usize) {
    if keywords.len() > text::MAX_KEYWORDS {
        c.err::<()>(
            list_at,
            format!(
                "`suchworte` has {} entries; a page can have at most {}",
                keywords.len(),
                text::MAX_KEYWORDS
            ),
            "keywords name the main topics of a page; keep the most important ones",
        );
    }
    for k in keywords {
        let n = k.value.chars().count();
        if n > text::MAX_KEYWORD_CHARS {
            c.errors.push(
                Diagnostic::error(&c.src.shown, format!("keyword of {n} characters in `suchworte`"))
                    .at(&c.src.text, k.offset)
                    .with_hint(format!(
                        "a keyword names a topic in a few words (at most {} characters); put longer text into the description or the body",
                        text::MAX_KEYWORD_CHARS
                    )),
            );
        }
    }
}

fn inherited_type<'a>(
    section_types: &'a BTreeMap<String, String>,
    dir: &str,
) -> Option<&'a String> {
    let mut d = dir;
    loop {
        if let Some(t) = section_types.get(d) {
            return Some(t);
        }
        if d.is_empty() {
            return None;
        }
        d = parent_dir(d);
    }
}

fn field_value(
    c: &mut FileCheck<'_>,
    f: &FieldDef,
    v: &Spanned<DeValue<'_>>,
) -> Option<FieldValue> {
    let key = f.name.as_str();
    let val = match f.kind {
        FieldKind::Text => {
            let s = c.string(key, v)?;
            if !f.options.is_empty() && !f.options.contains(&s) {
                let opts = f.options.iter().map(String::as_str);
                return c.err(
                    v.span().start,
                    format!("`{key}` must be one of: {}", f.options.join(", ")),
                    did_you_mean(&s, opts)
                        .unwrap_or_else(|| format!("allowed values: {}", f.options.join(", "))),
                );
            }
            FieldValue::Text(s)
        }
        FieldKind::Markdown => FieldValue::Markdown(At {
            value: c.string(key, v)?,
            offset: c.fm_offset + v.span().start,
        }),
        FieldKind::List => FieldValue::List(
            c.string_list(key, v)?
                .into_iter()
                .map(|a| a.value)
                .collect(),
        ),
        FieldKind::Integer => FieldValue::Integer(c.integer(key, v)?),
        FieldKind::Bool => FieldValue::Bool(c.boolean(key, v)?),
        FieldKind::Date => FieldValue::Date(c.date(key, v)?),
        FieldKind::Money => {
            let cents = match v.get_ref() {
                DeValue::String(s) => {
                    parse_money_de(s, &f.currency).map_err(|e| (e, s.to_string()))
                }
                DeValue::Integer(i) => money_from_integer(i),
                other => Err(("not an amount".into(), other.type_str().to_string())),
            };
            match cents {
                Ok(cents) => FieldValue::Money {
                    cents,
                    currency: f.currency.clone(),
                },
                Err((why, found)) => {
                    return c.err(
                        v.span().start,
                        format!(
                            "`{key}` must be an amount in {}: {why} (found {found})",
                            f.currency
                        ),
                        format!(
                            "write it in German notation without a sign: digits with a dot every three digits, a comma and the cents, e.g. {key} = \"12.500,00 {}\"",
                            f.currency
                        ),
                    )
                }
            }
        }
    };
    Some(val)
}

fn to_json(v: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .map(J::from)
            .unwrap_or(J::Null),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .unwrap_or(J::Null),
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(d) => J::String(d.to_string()),
        DeValue::Array(a) => J::Array(a.iter().map(|x| to_json(x.get_ref())).collect()),
        DeValue::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

mod yaml;

#[cfg(test)]
mod tests;
