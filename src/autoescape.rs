//! Tera escapes what it prints only when the value is a string: a list or a map printed with
//! `{{ }}` (`{{ page.fields.akteure }}`, a list field with `<script>` in an item) and a `~`
//! concatenation (`{{ "Nr. " ~ page.title }}`) come out raw, whatever the template's name. So
//! after loading, every printed expression of an escaping template that is not marked safe gets
//! a last filter that escapes its value, whatever its type.

use std::collections::HashMap;

use serde_json::Value;
use tera::ast::{Expr, ExprVal, FunctionCall, Node};
use tera::Tera;

/// The filter added to printed expressions (a name no template can mean to call).
const FILTER: &str = "__wegweiser_escape";

/// Adds the escaping filter to every `{{ … }}` of the templates whose names `escapes` says are
/// escaped (`.html`, `.xml`), and rebuilds what Tera derives from the AST (macros, blocks and
/// their inheritance chains), which it copied when loading.
pub(crate) fn install(
    tera: &mut Tera,
    escape: fn(&str) -> String,
    escapes: impl Fn(&str) -> bool,
) -> tera::Result<()> {
    tera.register_filter(FILTER, Escape(escape));
    let safe_filters: Vec<String> = tera
        .templates
        .values()
        .flat_map(|t| filter_names(&t.ast))
        .filter(|name| tera.get_filter(name).is_ok_and(|f| f.is_safe()))
        .collect();
    let safe_functions: Vec<String> = tera
        .functions
        .iter()
        .filter(|(_, f)| f.is_safe())
        .map(|(name, _)| name.clone())
        .collect();
    let already_safe = |e: &Expr| -> bool {
        match e.filters.last() {
            Some(f) => f.name == "safe" || safe_filters.contains(&f.name),
            None => match &e.val {
                ExprVal::MacroCall(_) => true,
                ExprVal::FunctionCall(f) => safe_functions.contains(&f.name),
                _ => false,
            },
        }
    };
    for t in tera.templates.values_mut() {
        if !escapes(&t.name) {
            continue;
        }
        wrap(&mut t.ast, &already_safe);
        crate::template_guard::reindex(t);
    }
    tera.build_inheritance_chains()
}

/// Appends the escaping filter to each printed expression below `nodes`.
fn wrap(nodes: &mut [Node], already_safe: &dyn Fn(&Expr) -> bool) {
    for n in nodes {
        match n {
            Node::VariableBlock(_, e)
                if !e.negated
                    && !e.filters.iter().any(|f| f.name == "safe")
                    && !already_safe(e) =>
            {
                e.filters.push(FunctionCall {
                    name: FILTER.into(),
                    args: HashMap::new(),
                });
            }
            Node::MacroDefinition(_, m, _) => wrap(&mut m.body, already_safe),
            Node::Block(_, b, _) => wrap(&mut b.body, already_safe),
            Node::FilterSection(_, f, _) => wrap(&mut f.body, already_safe),
            Node::Forloop(_, f, _) => {
                wrap(&mut f.body, already_safe);
                if let Some(body) = &mut f.empty_body {
                    wrap(body, already_safe);
                }
            }
            Node::If(i, _) => {
                for (_, _, body) in &mut i.conditions {
                    wrap(body, already_safe);
                }
                if let Some((_, body)) = &mut i.otherwise {
                    wrap(body, already_safe);
                }
            }
            _ => {}
        }
    }
}

/// Names of the filters the printed expressions below `nodes` end with.
fn filter_names(nodes: &[Node]) -> Vec<String> {
    let mut out = Vec::new();
    for n in nodes {
        match n {
            Node::VariableBlock(_, e) => out.extend(e.filters.last().map(|f| f.name.clone())),
            Node::MacroDefinition(_, m, _) => out.extend(filter_names(&m.body)),
            Node::Block(_, b, _) => out.extend(filter_names(&b.body)),
            Node::FilterSection(_, f, _) => out.extend(filter_names(&f.body)),
            Node::Forloop(_, f, _) => {
                out.extend(filter_names(&f.body));
                out.extend(
                    f.empty_body
                        .as_deref()
                        .map(filter_names)
                        .unwrap_or_default(),
                );
            }
            Node::If(i, _) => {
                for (_, _, body) in &i.conditions {
                    out.extend(filter_names(body));
                }
                out.extend(
                    i.otherwise
                        .as_ref()
                        .map(|(_, b)| filter_names(b))
                        .unwrap_or_default(),
                );
            }
            _ => {}
        }
    }
    out
}

/// Escapes a value as Tera would print it: lists as `[a, b]`, maps as `[object]`, null as
/// nothing. Marked safe, so Tera does not escape the result a second time.
struct Escape(fn(&str) -> String);

impl tera::Filter for Escape {
    fn filter(&self, value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
        Ok(Value::String((self.0)(&printed(value))))
    }

    fn is_safe(&self) -> bool {
        true
    }
}

fn printed(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(printed).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(_) => "[object]".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, ctx: &tera::Context) -> String {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        tera.add_raw_template("t.html", template)
            .expect("template parses");
        install(&mut tera, tera::escape_html, |n| n.ends_with(".html")).expect("install");
        tera.render("t.html", ctx).expect("renders")
    }

    #[test]
    fn lists_maps_and_concatenations_are_escaped_once() {
        let mut ctx = tera::Context::new();
        ctx.insert("list", &vec!["<b>", "&"]);
        ctx.insert("s", "<i>");
        ctx.insert("n", &3);
        let out = render(
            "{{ list }}|{{ 'x' ~ s }}|{{ s }}|{{ s | safe }}|{{ n }}|{{ s | upper }}|{% macro m() %}<p>{{ s }}</p>{% endmacro m %}{{ self::m() }}",
            &ctx,
        );
        assert_eq!(
            out,
            "[&lt;b&gt;, &amp;]|x&lt;i&gt;|&lt;i&gt;|<i>|3|&lt;I&gt;|<p>&lt;i&gt;</p>"
        );
    }
}
