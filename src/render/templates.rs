//! Loading the templates into Tera (with the guards and the engine's filters), and placing
//! Tera's load errors at their line in the template.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use tera::Tera;

use super::filters::register_engine;
use super::menu::MENU_TEMPLATE;
use super::text_reads::{self, TextReads};
use crate::config::Settings;
use crate::error::{BuildError, Diagnostic};
use crate::escape;
use crate::model::Template;
use crate::template_guard::{self as guard, Budget};

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
    /// Whose summary text each output read; `None`: the templates may read any listed one.
    pub text_reads: Option<Arc<TextReads>>,
    /// Template name → (shown path, text), to place render errors.
    pub sources: HashMap<String, (PathBuf, String)>,
    /// A fingerprint of every template's name and text (every output reads the templates).
    pub print: u64,
}

/// Loads the templates into Tera with the engine's filters and functions.
pub(crate) fn templates(
    settings: &Settings,
    sources: &[Template],
) -> Result<Templates, BuildError> {
    let budget = Arc::new(Budget::default());
    let (tera, text_reads) = load_tera(settings, sources, &budget)?;
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
        text_reads,
        sources: guard::source_map(sources),
        print: crate::model::fingerprint(sources),
    })
}

fn load_tera(
    settings: &Settings,
    templates: &[Template],
    budget: &Arc<Budget>,
) -> Result<(Tera, Option<Arc<TextReads>>), BuildError> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".xml"]);
    tera.set_escape_fn(escape::html);
    parse_guarded(&mut tera, templates, budget)?;
    let text_reads = text_reads::instrument(&mut tera)
        .map_err(|e| BuildError::from(template_error(&e, templates)))?;
    guard::register(&mut tera);
    register_engine(&mut tera, settings);
    Ok((tera, text_reads))
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
    if let Err(e) = crate::autoescape::install(tera, escape::html, escaped) {
        return Err(template_error(&e, templates).into());
    }
    let cycles = guard::include_cycles(tera, templates);
    if !cycles.is_empty() {
        return Err(BuildError::Content(cycles));
    }
    guard::instrument(tera, budget).map_err(|e| template_error(&e, templates).into())
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

pub(super) fn error_chain(e: &tera::Error) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pest_positions_are_found() {
        assert_eq!(pest_position("  --> 3:14\n  |"), Some((3, 14)));
        assert_eq!(line_col_offset("ab\ncd\n", 2, 2), 4);
    }
}
