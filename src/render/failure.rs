//! When a render fails: the output cap, Tera's render errors placed at the tag that caused
//! them, and one diagnostic per place in a template however many pages failed there.

use std::collections::HashMap;
use std::path::PathBuf;

use tera::{Context, Tera};

use super::templates::{error_chain, Templates};
use crate::error::Diagnostic;
use crate::template_guard::{self as guard, Budget};

/// A template that failed while rendering one page.
pub(crate) struct Failure {
    diag: Diagnostic,
    /// The page (or other source) being rendered.
    page: PathBuf,
}

/// One diagnostic per place in a template, naming the first page it failed on and how many
/// more (a mistake in `page.html` would otherwise be reported once for every page).
pub(super) fn merge_failures(failures: Vec<Failure>) -> Vec<Diagnostic> {
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
pub(super) fn render_capped(
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
pub(super) fn failure(
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
