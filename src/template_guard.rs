//! Limits on what a template may do, so that a publisher's mistake (a template that includes
//! itself, a macro that never stops calling itself, a loop over millions of items) ends in an
//! error at the template's line instead of a stack overflow or a build that never ends.
//!
//! Tera has no such limits, but its AST is public. After loading, every macro gets a hidden
//! depth argument and a guard at the start of its body, every loop body a tick, and every
//! `set` that builds a new value a charge by the value's size; ticks and charges draw from one
//! budget per rendered output (counts, so the limits are the same on every machine). Include
//! cycles are found before rendering. The AST has no positions: a tag's place is found again in
//! the template's text (the n-th `for` tag, the `macro` tag of that name, …).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tera::ast::{Block, Expr, ExprVal, FunctionCall, MathExpr, MathOperator, Node, Set, WS};
use tera::Tera;

use crate::error::Diagnostic;
use crate::model::Template;

/// Macro calls nested deeper than this are taken for endless recursion.
pub(crate) const MAX_MACRO_DEPTH: u64 = 100;
/// Evaluation steps (loop iterations, macro calls, 64 bytes of built values) per output.
pub(crate) const BUDGET: u64 = 2_000_000;
/// Most numbers `range()` makes.
pub(crate) const MAX_RANGE: usize = 100_000;
/// Largest output of one template render (bytes), besides [`OUTPUT_PER_INPUT`] times the
/// page's own content (a 50 MB page must still build).
pub(crate) const MAX_OUTPUT: usize = 64 << 20;
/// How often a template may print the page's content (content, summary, table of contents…).
pub(crate) const OUTPUT_PER_INPUT: usize = 4;
/// Bytes of a value built by `set` that cost one step.
const BYTES_PER_STEP: u64 = 64;
/// Stack of the render threads: enough for [`MAX_MACRO_DEPTH`] nested macro calls, each of
/// which takes several Tera stack frames, with a wide margin for nested loops and includes.
const RENDER_STACK: usize = 256 << 20;
/// Deepest nesting of block tags or brackets that is parsed at all (Tera's parser recurses).
pub(crate) const MAX_NESTING: usize = 64;

const DEPTH: &str = "__ww_depth";
/// Names of the guards' functions and filters start with this.
const GUARD: &str = "__ww_guard_";
/// Starts the message of an error thrown by a guard; the rest names the place.
const MARK: &str = "wegweiser-limit\u{1f}";

/// The threads templates are rendered on: with a stack large enough for the permitted depth
/// (the default 2 MiB of rayon's threads is not). `None` if the threads cannot be started.
pub(crate) fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(RENDER_STACK)
            .thread_name(|i| format!("wegweiser-render-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs `f` on the render threads (or here, if they could not be started).
pub(crate) fn on_render_threads<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// One value per render thread (and one for any other thread): what a template's hooks note
/// about the output that thread is rendering, so parallel renders do not share it.
pub(crate) struct PerRenderThread<T>(Vec<T>);

impl<T: Default> Default for PerRenderThread<T> {
    fn default() -> Self {
        let threads = pool().map_or(1, rayon::ThreadPool::current_num_threads);
        PerRenderThread((0..=threads).map(|_| T::default()).collect())
    }
}

impl<T> PerRenderThread<T> {
    /// This thread's value.
    pub(crate) fn get(&self) -> Option<&T> {
        let last = self.0.len().checked_sub(1)?;
        let i = rayon::current_thread_index().map_or(last, |i| i.min(last));
        self.0.get(i)
    }
}

/// Steps used by the output each render thread is working on: one counter per thread, so
/// parallel renders do not share a budget.
#[derive(Default)]
pub(crate) struct Budget {
    used: PerRenderThread<AtomicU64>,
}

impl Budget {
    /// Starts the budget of a new output on this thread.
    pub(crate) fn reset(&self) {
        if let Some(s) = self.used.get() {
            s.store(0, Ordering::Relaxed);
        }
    }

    /// Takes `steps`; false once the output has used more than [`BUDGET`].
    fn spend(&self, steps: u64) -> bool {
        self.used
            .get()
            .is_none_or(|s| s.fetch_add(steps, Ordering::Relaxed).saturating_add(steps) <= BUDGET)
    }
}

/// Where a guard stopped the render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Macro `name` of `template` was called more than [`MAX_MACRO_DEPTH`] levels deep.
    Depth { template: String, name: String },
    /// The budget ran out in the `n`-th `for` tag of `template`.
    Loop { template: String, n: usize },
    /// … in a call of macro `name`.
    Macro { template: String, name: String },
    /// … in the `n`-th `set` tag.
    Set { template: String, n: usize },
}

impl Stop {
    fn encode(&self) -> String {
        let (kind, t, what) = match self {
            Stop::Depth { template, name } => ("depth", template, name.clone()),
            Stop::Loop { template, n } => ("for", template, n.to_string()),
            Stop::Macro { template, name } => ("macro", template, name.clone()),
            Stop::Set { template, n } => ("set", template, n.to_string()),
        };
        format!("{MARK}{kind}\u{1f}{t}\u{1f}{what}")
    }

    /// The stop a guard's error message describes.
    pub(crate) fn decode(msg: &str) -> Option<Stop> {
        let rest = &msg[msg.find(MARK)? + MARK.len()..];
        let mut parts = rest.splitn(3, '\u{1f}');
        let (kind, template, what) = (parts.next()?, parts.next()?, parts.next()?);
        let template = template.to_string();
        let what = what.to_string();
        Some(match kind {
            "depth" => Stop::Depth {
                template,
                name: what,
            },
            "for" => Stop::Loop {
                template,
                n: what.parse().ok()?,
            },
            "macro" => Stop::Macro {
                template,
                name: what,
            },
            "set" => Stop::Set {
                template,
                n: what.parse().ok()?,
            },
            _ => return None,
        })
    }

    /// The stop as a diagnostic at its tag in the template.
    pub(crate) fn diagnostic(&self, sources: &HashMap<String, (PathBuf, String)>) -> Diagnostic {
        let (template, offset, message, hint) = match self {
            Stop::Depth { template, name } => (
                template,
                sources.get(template).and_then(|(_, t)| macro_tag(t, name)),
                format!("macro `{name}` calls itself more than {MAX_MACRO_DEPTH} levels deep"),
                "a macro that calls itself (directly or through other macros or includes) \
                 needs a condition that ends the recursion"
                    .to_string(),
            ),
            Stop::Loop { template, n } => (
                template,
                sources
                    .get(template)
                    .and_then(|(_, t)| nth_tag(t, &["for"], *n)),
                over_budget("this loop"),
                budget_hint(),
            ),
            Stop::Macro { template, name } => (
                template,
                sources.get(template).and_then(|(_, t)| macro_tag(t, name)),
                over_budget(&format!("macro `{name}`")),
                budget_hint(),
            ),
            Stop::Set { template, n } => (
                template,
                sources
                    .get(template)
                    .and_then(|(_, t)| nth_tag(t, &["set", "set_global"], *n)),
                over_budget("this `set`"),
                budget_hint(),
            ),
        };
        at_template(sources, template, offset, message).with_hint(hint)
    }
}

fn over_budget(place: &str) -> String {
    format!(
        "the template takes more than {BUDGET} evaluation steps for one page (stopped in {place})"
    )
}

fn budget_hint() -> String {
    "a step is a loop iteration, a macro call or 64 bytes of text built with `set`; \
     loop over fewer items (e.g. `| slice(end=100)`) or build less text"
        .into()
}

/// A diagnostic in `template` (its shown path), at `offset` of its text if known.
pub(crate) fn at_template(
    sources: &HashMap<String, (PathBuf, String)>,
    template: &str,
    offset: Option<usize>,
    message: String,
) -> Diagnostic {
    match sources.get(template) {
        Some((shown, text)) => {
            let d = Diagnostic::error(shown, message);
            match offset {
                Some(o) => d.at(text, o),
                None => d,
            }
        }
        None => Diagnostic::error(format!("templates/{template}"), message),
    }
}

/// One guard in a template's AST: a function (tick, macro entry) or a filter (charge) of its
/// own, registered under a name of its own, so it knows its place without arguments to
/// evaluate on every call.
enum Guard {
    Tick(Stop),
    Enter { template: String, name: String },
    Charge(Stop),
}

/// Registers the guards' functions and filters.
fn register_guards(tera: &mut Tera, budget: &Arc<Budget>, guards: Vec<(String, Guard)>) {
    for (fn_name, guard) in guards {
        let b = budget.clone();
        match guard {
            Guard::Tick(stop) => {
                let msg = stop.encode();
                tera.register_function(&fn_name, move |_: &HashMap<String, Value>| {
                    if b.spend(1) {
                        Ok(Value::String(String::new()))
                    } else {
                        Err(tera::Error::msg(msg.clone()))
                    }
                });
            }
            Guard::Enter { template, name } => {
                let deep = Stop::Depth {
                    template: template.clone(),
                    name: name.clone(),
                }
                .encode();
                let spent = Stop::Macro { template, name }.encode();
                tera.register_function(&fn_name, move |args: &HashMap<String, Value>| {
                    let depth = args.get("depth").and_then(Value::as_u64).unwrap_or(0);
                    if depth > MAX_MACRO_DEPTH {
                        Err(tera::Error::msg(deep.clone()))
                    } else if b.spend(1) {
                        Ok(Value::String(String::new()))
                    } else {
                        Err(tera::Error::msg(spent.clone()))
                    }
                });
            }
            Guard::Charge(stop) => {
                let msg = stop.encode();
                tera.register_filter(&fn_name, move |v: &Value, _: &HashMap<String, Value>| {
                    if b.spend(size(v) / BYTES_PER_STEP + 1) {
                        Ok(v.clone())
                    } else {
                        Err(tera::Error::msg(msg.clone()))
                    }
                });
            }
        }
    }
}

/// Registers a `range` that refuses huge ranges and a `replace` that refuses huge results
/// (Tera's own are registered in every instance; one call could take all memory).
pub(crate) fn register(tera: &mut Tera) {
    tera.register_function("range", range);
    tera.register_filter("replace", replace);
}

/// Tera's `replace(from, to)` filter, refusing a result over [`MAX_OUTPUT`] bytes.
fn replace(v: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = v.as_str().ok_or_else(|| {
        tera::Error::msg("Filter `replace` was used on a value that is not a string")
    })?;
    let arg = |key: &str| {
        args.get(key).and_then(Value::as_str).ok_or_else(|| {
            tera::Error::msg(format!("Filter `replace` expected an arg called `{key}`"))
        })
    };
    let (from, to) = (arg("from")?, arg("to")?);
    let count = if from.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(from).count()
    };
    let len = s.len().saturating_add(count.saturating_mul(to.len()));
    if len > MAX_OUTPUT {
        return Err(tera::Error::msg(format!(
            "Filter `replace` would make a text of {len} bytes; at most {MAX_OUTPUT} are allowed"
        )));
    }
    Ok(Value::String(s.replace(from, to)))
}

/// What a built value costs: its length in bytes (strings) or items (lists, maps).
fn size(v: &Value) -> u64 {
    let n = match v {
        Value::String(s) => s.len(),
        Value::Array(a) => a.len() * BYTES_PER_STEP as usize,
        Value::Object(o) => o.len() * BYTES_PER_STEP as usize,
        _ => 0,
    };
    n as u64
}

/// Tera's `range(end, start=0, step_by=1)`, but at most [`MAX_RANGE`] numbers.
fn range(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let arg = |key: &str, default: Option<usize>| -> tera::Result<usize> {
        match args.get(key) {
            None => default.ok_or_else(|| {
                tera::Error::msg(format!(
                    "Function `range` was called without a `{key}` argument"
                ))
            }),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    tera::Error::msg(format!(
                        "Function `range` received {key}={v} but `{key}` can only be a \
                         number of 0 or more"
                    ))
                }),
        }
    };
    let (start, end, step) = (
        arg("start", Some(0))?,
        arg("end", None)?,
        arg("step_by", Some(1))?,
    );
    if step == 0 {
        return Err(tera::Error::msg(
            "Function `range` was called with step_by=0",
        ));
    }
    if start > end {
        return Err(tera::Error::msg(
            "Function `range` was called with a `start` argument greater than the `end` one",
        ));
    }
    let count = (end - start).div_ceil(step);
    if count > MAX_RANGE {
        return Err(tera::Error::msg(format!(
            "Function `range` would make {count} numbers; at most {MAX_RANGE} are allowed"
        )));
    }
    Ok(Value::Array(
        (start..end).step_by(step).map(Value::from).collect(),
    ))
}

fn call(name: &str, args: Vec<(&str, ExprVal)>) -> FunctionCall {
    FunctionCall {
        name: name.to_string(),
        args: args
            .into_iter()
            .map(|(k, v)| (k.to_string(), Expr::new(v)))
            .collect(),
    }
}

fn print_call(name: &str, args: Vec<(&str, ExprVal)>) -> Node {
    Node::VariableBlock(
        WS::default(),
        Expr::new(ExprVal::FunctionCall(call(name, args))),
    )
}

/// Adds the guards to one template's AST, numbering `for` and `set` tags in source order.
struct Rewriter<'g> {
    template: String,
    fors: usize,
    sets: usize,
    /// Every guard added so far (of all templates), with its function or filter name.
    guards: &'g mut Vec<(String, Guard)>,
}

impl Rewriter<'_> {
    /// A new guard's function or filter name.
    fn add(&mut self, guard: Guard) -> String {
        let name = format!("{GUARD}{}", self.guards.len());
        self.guards.push((name.clone(), guard));
        name
    }

    fn nodes(&mut self, nodes: &mut [Node]) {
        for node in nodes {
            match node {
                Node::Forloop(_, f, _) => {
                    let n = self.fors;
                    self.fors += 1;
                    self.nodes(&mut f.body);
                    if let Some(body) = &mut f.empty_body {
                        self.nodes(body);
                    }
                    let template = self.template.clone();
                    let tick = self.add(Guard::Tick(Stop::Loop { template, n }));
                    f.body.insert(0, print_call(&tick, vec![]));
                }
                Node::Set(_, set) => {
                    let n = self.sets;
                    self.sets += 1;
                    if builds(&set.value) {
                        let template = self.template.clone();
                        let charge = self.add(Guard::Charge(Stop::Set { template, n }));
                        set.value.filters.push(call(&charge, vec![]));
                    }
                }
                Node::MacroDefinition(_, m, _) => {
                    self.nodes(&mut m.body);
                    let enter = self.add(Guard::Enter {
                        template: self.template.clone(),
                        name: m.name.clone(),
                    });
                    guard_macro(&enter, m);
                }
                Node::Block(_, b, _) => self.nodes(&mut b.body),
                Node::FilterSection(_, f, _) => self.nodes(&mut f.body),
                Node::If(i, _) => {
                    for (_, _, body) in &mut i.conditions {
                        self.nodes(body);
                    }
                    if let Some((_, body)) = &mut i.otherwise {
                        self.nodes(body);
                    }
                }
                _ => {}
            }
        }
    }
}

/// A `set` value that may be larger than what it is made from (only those cost steps; a plain
/// variable is borrowed, not copied).
fn builds(e: &Expr) -> bool {
    !e.filters.is_empty()
        || !matches!(
            e.val,
            ExprVal::Ident(_) | ExprVal::Int(_) | ExprVal::Bool(_)
        )
}

/// The hidden depth argument defaults to the caller's depth (0 outside macros; Tera evaluates
/// defaults in the caller's frame, which includes see too); the body counts one more level.
fn guard_macro(enter: &str, m: &mut tera::ast::MacroDefinition) {
    let caller = Expr::with_filters(
        ExprVal::Ident(DEPTH.into()),
        vec![call("default", vec![("value", ExprVal::Int(0))])],
    );
    m.args.insert(DEPTH.into(), Some(caller));
    let inc = Node::Set(
        WS::default(),
        Set {
            key: DEPTH.into(),
            value: Expr::new(ExprVal::Math(MathExpr {
                lhs: Box::new(Expr::new(ExprVal::Ident(DEPTH.into()))),
                rhs: Box::new(Expr::new(ExprVal::Int(1))),
                operator: MathOperator::Add,
            })),
            global: false,
        },
    );
    let enter = print_call(enter, vec![("depth", ExprVal::Ident(DEPTH.into()))]);
    let mut body = vec![inc, enter];
    body.append(&mut m.body);
    m.body = body;
}

/// Adds the guards to every loaded template and rebuilds what Tera derives from the AST
/// (macros, blocks and their inheritance chains), which it copied when loading.
pub(crate) fn instrument(tera: &mut Tera, budget: &Arc<Budget>) -> tera::Result<()> {
    let mut guards = Vec::new();
    for t in tera.templates.values_mut() {
        let mut r = Rewriter {
            template: t.name.clone(),
            fors: 0,
            sets: 0,
            guards: &mut guards,
        };
        r.nodes(&mut t.ast);
        reindex(t);
    }
    register_guards(tera, budget, guards);
    tera.build_inheritance_chains()
}

/// After the AST of a parsed template was rewritten, Tera's own copies of its macros and
/// blocks (taken at parse time) must be taken again, or Tera renders the old ones.
pub(crate) fn reindex(t: &mut tera::Template) {
    t.macros = t
        .ast
        .iter()
        .filter_map(|n| match n {
            Node::MacroDefinition(_, m, _) => Some((m.name.clone(), m.clone())),
            _ => None,
        })
        .collect();
    t.blocks.clear();
    collect_blocks(&t.ast, &mut t.blocks);
}

/// Blocks as Tera finds them: at the top level and inside other blocks.
fn collect_blocks(nodes: &[Node], out: &mut HashMap<String, Block>) {
    for n in nodes {
        if let Node::Block(_, b, _) = n {
            out.insert(b.name.clone(), b.clone());
            collect_blocks(&b.body, out);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Include cycles

/// The templates each `include` tag names, in source order.
fn includes(nodes: &[Node], out: &mut Vec<Vec<String>>) {
    for node in nodes {
        match node {
            Node::Include(_, names, _) => out.push(names.clone()),
            Node::Forloop(_, f, _) => {
                includes(&f.body, out);
                if let Some(b) = &f.empty_body {
                    includes(b, out);
                }
            }
            Node::MacroDefinition(_, m, _) => includes(&m.body, out),
            Node::Block(_, b, _) => includes(&b.body, out),
            Node::FilterSection(_, f, _) => includes(&f.body, out),
            Node::If(i, _) => {
                for (_, _, body) in &i.conditions {
                    includes(body, out);
                }
                if let Some((_, body)) = &i.otherwise {
                    includes(body, out);
                }
            }
            _ => {}
        }
    }
}

/// Edges of the include graph: template → (n-th include tag, included template).
fn include_graph(tera: &Tera) -> HashMap<String, Vec<(usize, String)>> {
    let mut graph = HashMap::new();
    for (name, t) in &tera.templates {
        let mut tags = Vec::new();
        includes(&t.ast, &mut tags);
        let edges: Vec<(usize, String)> = tags
            .into_iter()
            .enumerate()
            .filter_map(|(i, names)| {
                // Tera renders the first of the names that exists.
                names
                    .into_iter()
                    .find(|n| tera.templates.contains_key(n))
                    .map(|n| (i, n))
            })
            .collect();
        graph.insert(name.clone(), edges);
    }
    graph
}

/// Every cycle of includes (each once), as an error at the include tag that closes it: an
/// include is rendered in place, so a cycle would recurse until the stack overflows.
pub(crate) fn include_cycles(tera: &Tera, templates: &[Template]) -> Vec<Diagnostic> {
    let graph = include_graph(tera);
    let sources = source_map(templates);
    let mut names: Vec<&String> = graph.keys().collect();
    names.sort();
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut diags = Vec::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    for start in names {
        let mut path = Vec::new();
        walk(&graph, start, &mut path, &mut done, &mut |cycle, tag| {
            let mut key: Vec<String> = cycle.to_vec();
            key.sort();
            if seen.insert(key) {
                diags.push(cycle_diagnostic(&sources, cycle, tag));
            }
        });
    }
    diags
}

/// Depth-first walk; calls `found` with each cycle (from the template that closes it back to
/// the start) and the number of the closing include tag.
fn walk(
    graph: &HashMap<String, Vec<(usize, String)>>,
    at: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
    found: &mut dyn FnMut(&[String], usize),
) {
    if done.contains(at) {
        return;
    }
    path.push(at.to_string());
    for (tag, next) in graph.get(at).map_or(&[][..], Vec::as_slice) {
        if let Some(i) = path.iter().position(|p| p == next) {
            let mut cycle = path[i..].to_vec();
            let last = cycle.len() - 1;
            cycle.rotate_left(last);
            found(&cycle, *tag);
        } else {
            walk(graph, next, path, done, found);
        }
    }
    path.pop();
    done.insert(at.to_string());
}

fn cycle_diagnostic(
    sources: &HashMap<String, (PathBuf, String)>,
    cycle: &[String],
    tag: usize,
) -> Diagnostic {
    let from = &cycle[0];
    let offset = sources
        .get(from)
        .and_then(|(_, t)| nth_tag(t, &["include"], tag));
    let message = if cycle.len() == 1 {
        format!("template `{from}` includes itself")
    } else {
        let mut chain: Vec<String> = cycle.iter().map(|c| format!("`{c}`")).collect();
        chain.push(format!("`{from}`"));
        format!(
            "templates include each other in a cycle: {}",
            chain.join(" → ")
        )
    };
    at_template(sources, from, offset, message).with_hint(
        "an include is rendered in its place, so a cycle never ends; remove this include \
         or move what both need into a partial that includes neither",
    )
}

/// Template name → (shown path, text).
pub(crate) fn source_map(templates: &[Template]) -> HashMap<String, (PathBuf, String)> {
    templates
        .iter()
        .map(|t| (t.name.clone(), (t.shown.clone(), t.text.clone())))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tags in the template text

/// A tag of the template text: `{% keyword … %}` (`{{ … }}` has keyword "").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    /// Byte offset of the keyword (of the expression for `{{`).
    pub at: usize,
    pub keyword: &'a str,
    /// The tag's text after the keyword, up to the closing delimiter.
    pub rest: &'a str,
    /// Byte offset of `rest`.
    pub rest_at: usize,
}

/// Every `{% %}` and `{{ }}` tag in source order; comments and `raw` blocks skipped.
pub(crate) fn tags(text: &str) -> Vec<Tag<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_raw = false;
    while let Some(found) = text[i..].find('{') {
        let start = i + found;
        let open = text.get(start..start + 2).unwrap_or("");
        let close = match open {
            "{%" => "%}",
            "{{" if !in_raw => "}}",
            "{#" if !in_raw => "#}",
            _ => {
                i = start + 1;
                continue;
            }
        };
        let body_start = start + 2;
        let end = text[body_start..]
            .find(close)
            .map_or(text.len(), |e| body_start + e);
        i = (end + 2).min(text.len());
        if open == "{#" {
            continue;
        }
        let inner = &text[body_start..end];
        let trimmed = inner.trim_start_matches('-').trim_start();
        let lead = body_start + (inner.len() - trimmed.len());
        let (keyword, rest, rest_at) = if open == "{{" {
            ("", trimmed, lead)
        } else {
            let k = trimmed
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(trimmed.len());
            (&trimmed[..k], &trimmed[k..], lead + k)
        };
        if in_raw {
            in_raw = keyword != "endraw";
            continue;
        }
        in_raw = keyword == "raw";
        out.push(Tag {
            at: lead,
            keyword,
            rest: rest.trim_end_matches('-'),
            rest_at,
        });
    }
    out
}

/// Offset of the `n`-th tag (from 0) whose keyword is one of `keywords`.
pub(crate) fn nth_tag(text: &str, keywords: &[&str], n: usize) -> Option<usize> {
    tags(text)
        .into_iter()
        .filter(|t| keywords.contains(&t.keyword))
        .nth(n)
        .map(|t| t.at)
}

/// Offset of the name in the `{% macro name(…) %}` tag.
pub(crate) fn macro_tag(text: &str, name: &str) -> Option<usize> {
    tags(text).into_iter().find_map(|t| {
        let rest = t.rest.trim_start();
        let after = rest.strip_prefix(name)?;
        (t.keyword == "macro" && after.trim_start().starts_with('('))
            .then(|| t.rest_at + (t.rest.len() - rest.len()))
    })
}

/// Offset of the first use of identifier `name` inside a tag (not inside a string), e.g. a
/// variable, filter or function name from an error message.
pub(crate) fn name_in_tags(text: &str, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    for t in tags(text) {
        let hay = t.rest;
        let mut from = 0;
        while let Some(p) = hay[from..].find(name) {
            let s = from + p;
            let e = s + name.len();
            let before = hay[..s].chars().next_back();
            let after = hay[e..].chars().next();
            let quoted = hay[..s].matches(['"', '\'', '`']).count() % 2 == 1;
            if !quoted && !before.is_some_and(|c| ident(c) || c == '.') && !after.is_some_and(ident)
            {
                return Some(t.rest_at + s);
            }
            from = e;
        }
    }
    None
}

/// Block tags (`if`, `for`, …) or brackets nested deeper than [`MAX_NESTING`]: Tera's parser
/// and renderer recurse on them. Returns the offset where the limit is passed.
pub(crate) fn too_deep(text: &str) -> Option<usize> {
    const OPEN: [&str; 5] = ["if", "for", "block", "macro", "filter"];
    let mut depth = 0usize;
    for t in tags(text) {
        if OPEN.contains(&t.keyword) {
            depth += 1;
            if depth > MAX_NESTING {
                return Some(t.at);
            }
        } else if t.keyword.starts_with("end") {
            depth = depth.saturating_sub(1);
        }
        let mut brackets = 0usize;
        let mut quote: Option<char> = None;
        for (i, c) in t.rest.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'' | '`') => quote = Some(c),
                (None, '(' | '[') => {
                    brackets += 1;
                    if brackets > MAX_NESTING {
                        return Some(t.rest_at + i);
                    }
                }
                (None, ')' | ']') => brackets = brackets.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_skip_comments_and_raw_blocks() {
        let text =
            "{# {% for x in y %} #}{% raw %}{% for a in b %}{% endraw %}\n{%- for i in j -%}";
        let t = tags(text);
        let keys: Vec<&str> = t.iter().map(|t| t.keyword).collect();
        assert_eq!(keys, ["raw", "for"]);
        assert_eq!(&text[t[1].at..t[1].at + 3], "for");
        assert_eq!(nth_tag(text, &["for"], 0), Some(t[1].at));
        assert_eq!(nth_tag(text, &["for"], 1), None);
    }

    #[test]
    fn macro_and_name_positions() {
        let text = "{% macro row(x) %}{{ x | upper }}{% endmacro row %}\n{{ page.titel }}";
        assert_eq!(macro_tag(text, "row"), Some(9));
        assert_eq!(macro_tag(text, "ro"), None);
        let at = name_in_tags(text, "page.titel").map(|o| &text[o..o + 10]);
        assert_eq!(at, Some("page.titel"));
        assert_eq!(name_in_tags(text, "titel"), None);
        assert_eq!(name_in_tags("{{ \"upper\" | upper }}", "upper"), Some(13));
    }

    #[test]
    fn range_is_capped() {
        let args = |end: u64| HashMap::from([("end".to_string(), Value::from(end))]);
        assert_eq!(range(&args(3)).ok(), Some(serde_json::json!([0, 1, 2])));
        let err = range(&args(100_000_000)).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("at most 100000")));
    }

    #[test]
    fn replace_is_capped() {
        let args = |from: &str, to: &str| {
            HashMap::from([
                ("from".to_string(), Value::from(from)),
                ("to".to_string(), Value::from(to)),
            ])
        };
        let ab = Value::from("abab");
        assert_eq!(
            replace(&ab, &args("b", "c")).ok(),
            Some(Value::from("acac"))
        );
        assert_eq!(
            replace(&ab, &args("", "-")).ok(),
            Some(Value::from("-a-b-a-b-"))
        );
        let big = Value::from("x".repeat(1 << 20));
        let err = replace(&big, &args("x", &"y".repeat(100))).err();
        assert!(err.is_some_and(|e| e.to_string().contains("at most")));
    }

    #[test]
    fn stops_round_trip() {
        let s = Stop::Loop {
            template: "page.html".into(),
            n: 3,
        };
        assert_eq!(Stop::decode(&format!("x: {}", s.encode())), Some(s));
    }

    #[test]
    fn the_fuzz_entry_renders_and_reports() {
        use crate::fuzz_api::render_templates;
        let ok = render_templates("{% for i in range(end=3) %}{{ i }}{% endfor %}{{ page.title }}");
        let outputs = ok.unwrap_or_else(|d| panic!("{d:?}"));
        assert!(
            outputs.iter().any(|(_, html)| html.contains("012EQUAL")),
            "{outputs:?}"
        );
        let err = render_templates("{% include \"page.html\" %}").err();
        assert!(err.is_some_and(|d| d[0].contains("includes itself")));
        let recursion = "{% import \"partials/menu.html\" as m %}{{ m::f() }}\n%%\nx\n%%\n\
                         {% macro f() %}{{ self::f() }}{% endmacro f %}";
        let err = render_templates(recursion).err().unwrap_or_default();
        assert!(
            err.iter()
                .any(|d| d.contains("calls itself more than 100 levels")),
            "{err:?}"
        );
    }

    #[test]
    fn deep_nesting_is_found() {
        let deep = "{% if a %}".repeat(MAX_NESTING + 1);
        assert_eq!(too_deep(&deep), Some(10 * MAX_NESTING + 3));
        let parens = format!("{{{{ {} }}}}", "(".repeat(MAX_NESTING + 1));
        assert!(too_deep(&parens).is_some());
        assert_eq!(too_deep("{% if a %}{% endif %}{{ (1) }}"), None);
    }
}
