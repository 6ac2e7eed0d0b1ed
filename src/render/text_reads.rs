//! Which nodes' summary text an output printed or tested, so that an edit of a page's text
//! re-renders a listing only if the listing shows that text.
//!
//! A listing entry carries the page's `summary`, but the default theme prints it only where
//! the page has no `description`. Tera cannot say what a render looked up, so after loading,
//! every `X.summary` in an expression gets a first filter that notes `X.path` on the render
//! thread and passes the value on unchanged. That is exact only if the text cannot be reached
//! another way: where a template could read it by a computed name, an unknown attribute, as
//! part of a whole object (`json_encode`, a key-value loop over an entry) or under another
//! name, the templates are *opaque* and every listed entry counts as read in full (the
//! behaviour without this module).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use tera::ast::{Expr, ExprVal, FunctionCall, Node};
use tera::Tera;

use crate::template_guard as guard;

/// The filter added in front of each `X.summary` (a name no template can mean to call).
const FILTER: &str = "__ww_read_summary";
const FIELD: &str = "summary";
/// Maps of front-matter values: their keys are field names, never a listing entry's.
const VALUE_MAPS: [&str; 4] = ["fields", "field_labels", "field_types", "extra"];

/// The `X.path` values the summary filter saw, per render thread (one output at a time each).
#[derive(Default)]
pub(crate) struct TextReads {
    seen: guard::PerRenderThread<Mutex<Vec<String>>>,
}

impl TextReads {
    fn note(&self, path: &str) {
        if let Some(s) = self.seen.get() {
            s.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(path.to_string());
        }
    }

    /// What this thread's output read so far; starts the next output's list.
    pub(super) fn take(&self) -> Vec<String> {
        self.seen.get().map_or(Vec::new(), |s| {
            std::mem::take(&mut *s.lock().unwrap_or_else(PoisonError::into_inner))
        })
    }
}

/// Adds the filter to every template; `None` if the templates are opaque (then nothing was
/// changed, and every listed summary counts as read).
pub(crate) fn instrument(tera: &mut Tera) -> tera::Result<Option<Arc<TextReads>>> {
    let mut scan = Scan::default();
    let mut asts: Vec<(String, Vec<Node>)> = tera
        .templates
        .iter()
        .map(|(name, t)| (name.clone(), t.ast.clone()))
        .collect();
    for (_, ast) in &mut asts {
        scan.nodes(ast);
    }
    if scan.opaque {
        return Ok(None);
    }
    for (name, ast) in asts {
        if let Some(t) = tera.templates.get_mut(&name) {
            t.ast = ast;
            guard::reindex(t);
        }
    }
    let reads = Arc::new(TextReads::default());
    let r = reads.clone();
    tera.register_filter(FILTER, move |v: &Value, args: &HashMap<String, Value>| {
        if let Some(path) = args.get("of").and_then(Value::as_str) {
            r.note(path);
        }
        Ok(v.clone())
    });
    tera.build_inheritance_chains()?;
    Ok(Some(reads))
}

/// Walks the templates, adding the filter and looking for ways to the text it cannot see.
#[derive(Default)]
struct Scan {
    opaque: bool,
    /// Values of the key-value loops around the current node that walk front-matter maps.
    map_values: Vec<String>,
}

impl Scan {
    fn nodes(&mut self, nodes: &mut [Node]) {
        for node in nodes {
            match node {
                Node::VariableBlock(_, e) => self.expr(e),
                Node::Set(_, s) => {
                    self.name(&s.key);
                    self.expr(&mut s.value);
                }
                Node::MacroDefinition(_, m, _) => {
                    for (arg, default) in &mut m.args {
                        self.name(arg);
                        if let Some(e) = default {
                            self.expr(e);
                        }
                    }
                    self.nodes(&mut m.body);
                }
                Node::Forloop(_, f, _) => {
                    self.name(&f.value);
                    self.expr(&mut f.container);
                    let pairs = f.key.is_some();
                    if let Some(key) = &f.key {
                        self.name(key);
                        // Keys and values of a map: only front-matter maps are safe to walk.
                        self.opaque |= !self.is_value_map(&f.container);
                        self.map_values.push(f.value.clone());
                    }
                    self.nodes(&mut f.body);
                    if pairs {
                        self.map_values.pop();
                    }
                    if let Some(body) = &mut f.empty_body {
                        self.nodes(body);
                    }
                }
                Node::If(i, _) => {
                    for (_, cond, body) in &mut i.conditions {
                        self.expr(cond);
                        self.nodes(body);
                    }
                    if let Some((_, body)) = &mut i.otherwise {
                        self.nodes(body);
                    }
                }
                Node::Block(_, b, _) => self.nodes(&mut b.body),
                Node::FilterSection(_, f, _) => {
                    self.call(&mut f.filter, None);
                    self.nodes(&mut f.body);
                }
                _ => {}
            }
        }
    }

    /// A variable or argument name: one called `summary` could hold the text.
    fn name(&mut self, name: &str) {
        self.opaque |= name.contains(FIELD);
    }

    fn expr(&mut self, e: &mut Expr) {
        self.expr_with(e, true);
    }

    /// An operand of arithmetic or of `<`, `>`: Tera evaluates one without filters as a number
    /// (a text there is an error either way); a filter would change that error's message.
    fn number(&mut self, e: &mut Expr) {
        self.expr_with(e, false);
    }

    fn expr_with(&mut self, e: &mut Expr, note: bool) {
        self.val(&mut e.val);
        let input = match &e.val {
            ExprVal::Ident(id) => Some(id.clone()),
            _ => None,
        };
        let default_first = e.has_default_filter();
        for (i, f) in e.filters.iter_mut().enumerate() {
            // Only the first filter sees the variable itself (after a `default`, the second).
            let first = i == 0 || (i == 1 && default_first);
            self.call(f, input.as_deref().filter(|_| first));
        }
        if let ExprVal::Ident(id) = &e.val {
            if let Some(owner) = owner_of_summary(id).filter(|_| note) {
                let at = usize::from(e.has_default_filter());
                e.filters.insert(at, read_filter(owner));
            }
        }
    }

    fn val(&mut self, v: &mut ExprVal) {
        match v {
            ExprVal::String(s) => self.opaque |= s.contains(FIELD),
            ExprVal::Ident(id) => self.opaque |= self.opaque_ident(id),
            ExprVal::Math(m) => {
                self.number(&mut m.lhs);
                self.number(&mut m.rhs);
            }
            ExprVal::Logic(l) => {
                use tera::ast::LogicOperator as Op;
                if matches!(l.operator, Op::Gt | Op::Gte | Op::Lt | Op::Lte) {
                    self.number(&mut l.lhs);
                    self.number(&mut l.rhs);
                } else {
                    self.expr(&mut l.lhs);
                    self.expr(&mut l.rhs);
                }
            }
            ExprVal::In(i) => {
                self.expr(&mut i.lhs);
                self.expr(&mut i.rhs);
            }
            ExprVal::Test(t) => {
                // `is defined` reads no value; other tests (`containing`, …) read the text.
                let reads_value = !matches!(t.name.as_str(), "defined" | "undefined");
                self.opaque |=
                    t.ident.contains(FIELD) && reads_value || self.opaque_ident(&t.ident);
                t.args.iter_mut().for_each(|a| self.expr(a));
            }
            ExprVal::MacroCall(m) => m.args.values_mut().for_each(|a| self.expr(a)),
            ExprVal::FunctionCall(f) => self.call(f, None),
            ExprVal::Array(items) => items.iter_mut().for_each(|a| self.expr(a)),
            // Parts of a `~` have no filters to add: a summary there is not seen.
            ExprVal::StringConcat(c) => {
                for part in &mut c.values {
                    match part {
                        ExprVal::Ident(id) => self.opaque |= id.contains(FIELD),
                        other => self.val(other),
                    }
                }
            }
            ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => {}
        }
    }

    /// A filter or function call; `input`: the variable it is applied to, if directly.
    fn call(&mut self, f: &mut FunctionCall, input: Option<&str>) {
        // Whole objects as text, or attributes and keys by computed name.
        let computed = |name: &str| f.args.get(name).is_some_and(|a| !is_literal(a));
        let of_map = input.is_some_and(|i| self.names_value_map(i));
        let opaque = match f.name.as_str() {
            "json_encode" => !of_map,
            "get" => computed("key") && !of_map,
            "map" | "sort" | "group_by" | "filter" | "unique" => computed("attribute"),
            _ => false,
        };
        self.opaque |= opaque;
        f.args.values_mut().for_each(|a| self.expr(a));
    }

    /// An identifier that may reach a summary unseen: under another spelling
    /// (`p["summary"]`, `summary_x`), by a computed subscript (`p[name]`, but for a
    /// front-matter map), or the whole context.
    fn opaque_ident(&self, id: &str) -> bool {
        let named = owner_of_summary(id).unwrap_or(id);
        named.contains(FIELD)
            || id.contains("__tera_context")
            || computed_subscripts(id).any(|before| !self.names_value_map(before))
    }

    /// A front-matter map (`page.fields`, …) or a value in one (a loop's over it).
    fn names_value_map(&self, id: &str) -> bool {
        let last = id.rsplit('.').next().unwrap_or(id);
        let plain = computed_subscripts(id).next().is_none();
        plain && (VALUE_MAPS.contains(&last) || self.map_values.iter().any(|v| v == id))
    }

    fn is_value_map(&self, e: &Expr) -> bool {
        e.filters.is_empty() && matches!(&e.val, ExprVal::Ident(id) if self.names_value_map(id))
    }
}

/// `X` of an identifier `X.summary` (if `X` itself names no summary).
fn owner_of_summary(id: &str) -> Option<&str> {
    let owner = id.strip_suffix(FIELD)?.strip_suffix('.')?;
    (!owner.is_empty() && !owner.contains(FIELD)).then_some(owner)
}

/// What comes before each subscript `[b]` of `id` whose `b` is neither a number nor a quoted
/// string (`page.field_labels` of `page.field_labels[name]`).
fn computed_subscripts(id: &str) -> impl Iterator<Item = &str> {
    id.match_indices('[').filter_map(move |(at, _)| {
        let rest = &id[at + 1..];
        let inner = rest.split(']').next().unwrap_or("").trim();
        let quoted = inner.len() >= 2
            && (inner.starts_with('"') || inner.starts_with('\''))
            && inner.ends_with(inner.chars().next().unwrap_or('"'));
        let literal = quoted || inner.chars().all(|c| c.is_ascii_digit());
        (!literal).then_some(&id[..at])
    })
}

fn is_literal(e: &Expr) -> bool {
    e.filters.is_empty()
        && matches!(
            e.val,
            ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_)
        )
}

/// `| __ww_read_summary(of=X.path | default(value=""))`.
fn read_filter(owner: &str) -> FunctionCall {
    let default = FunctionCall {
        name: "default".into(),
        args: HashMap::from([(
            "value".to_string(),
            Expr::new(ExprVal::String(String::new())),
        )]),
    };
    let of = Expr::with_filters(ExprVal::Ident(format!("{owner}.path")), vec![default]);
    FunctionCall {
        name: FILTER.into(),
        args: HashMap::from([("of".to_string(), of)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> (Option<Arc<TextReads>>, Tera) {
        let mut tera = Tera::default();
        tera.add_raw_template("t.html", text).ok();
        let reads = instrument(&mut tera).ok().flatten();
        (reads, tera)
    }

    #[test]
    fn plain_attribute_reads_are_seen() {
        for t in [
            "{% for p in pages %}{% if p.description %}{{ p.description }}{% elif p.summary %}{{ p.summary | truncate(length=9) }}{% endif %}{% endfor %}",
            "{{ page.summary | default(value='') }}",
            "{% for name, v in page.fields %}{{ page.fields | get(key=name) }}{% endfor %}",
            "{% for name, v in page.fields %}{{ page.field_labels[name] }}{{ v | json_encode() }}{% endfor %}",
            "{{ site.extra | json_encode() }}",
            "{% if p.summary is defined %}x{% endif %}",
        ] {
            assert!(scan(t).0.is_some(), "{t}");
        }
    }

    #[test]
    fn other_ways_to_the_text_make_the_templates_opaque() {
        for t in [
            "{{ p | json_encode }}",
            "{% for name, v in page.fields %}{% endfor %}{{ v | json_encode() }}",
            "{{ p.fields[name].x[k] }}",
            "{{ p['summary'] }}",
            "{{ p[name] }}",
            "{{ pages | map(attribute='summary') | join(sep=',') }}",
            "{{ pages | map(attribute=a) }}",
            "{{ p | get(key=k) }}",
            "{% for k, v in p %}{{ v }}{% endfor %}",
            "{% set summary = p.title %}",
            "{{ 'x' ~ p.summary }}",
            "{% if p.summary is containing('a') %}a{% endif %}",
            "{{ __tera_context }}",
        ] {
            assert!(scan(t).0.is_none(), "{t}");
        }
    }

    #[test]
    fn the_filter_notes_the_owner_and_keeps_the_value() {
        let (reads, tera) = scan(
            "{% for p in pages %}[{% if p.description %}{{ p.description }}{% else %}{{ p.summary }}{% endif %}]{% endfor %}{{ q.summary | default(value='-') }}",
        );
        let Some(reads) = reads else {
            panic!("the template is transparent");
        };
        let mut c = tera::Context::new();
        c.insert(
            "pages",
            &serde_json::json!([
                {"path": "/a/", "description": "A", "summary": "sa"},
                {"path": "/b/", "description": "", "summary": "s<b"},
            ]),
        );
        c.insert("q", &serde_json::json!({}));
        let out = tera.render("t.html", &c).unwrap_or_default();
        assert_eq!(out, "[A][s&lt;b]-");
        assert_eq!(reads.take(), ["/b/", ""]);
        assert!(reads.take().is_empty());
    }
}
