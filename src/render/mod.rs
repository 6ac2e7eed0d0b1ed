//! Stage 6: view models and templates → HTML files in memory.
//!
//! Takes the resolved site, the rendered bodies and the keywords, and returns one [`Output`] per
//! file to write. This module is the only one that knows Tera; templates see only the plain
//! serialisable view structs in `views` (the theme contract, docs/theme-contract.md).
//!
//! Here: the job list, the listed summaries and the parallel loop. One file per kind of job
//! (`node`, `keywords`, `special`) puts its view into the Tera context; every read of the site
//! goes through [`views::Ctx`].

mod failure;
mod filters;
mod keywords;
mod menu;
mod node;
mod reads;
mod special;
mod templates;
mod text_reads;
mod views;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;
use tera::{Context, Tera};

use crate::config::Settings;
use crate::error::Diagnostic;
use crate::model::{Body, ExtraId, KeywordHtml, KeywordId, Keywords, NodeId, Output, Site};
use crate::template_guard as guard;
use failure::{failure, merge_failures, render_capped, Failure};
use menu::MenuCache;
use views::Ctx;

pub(crate) use menu::MENU_TEMPLATE;
pub(crate) use reads::Memo;
pub(crate) use templates::{templates, Templates};
// The stage's formatting, the escapers it used to hold (now in `crate::escape`) and the search
// page's path stay reachable as `crate::render::<name>`, also where no other stage uses them.
#[allow(unused_imports)]
pub(crate) use crate::escape::{css_string, csv_field, html as escape_html};
#[allow(unused_imports)]
pub(crate) use filters::{dm_to_euro_cents, format_de};
#[allow(unused_imports)]
pub(crate) use special::SEARCH_PATH;

/// One output file to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Job {
    Node(NodeId),
    /// An extra output of a section, e.g. `projekte.csv`.
    Extra(NodeId, ExtraId),
    /// Page 2, 3, … (the number) of a paginated section.
    SectionPage(NodeId, usize),
    KeywordIndex,
    Keyword(KeywordId),
    /// A page made from a template alone: (template, URL path).
    Special(&'static str, &'static str),
}

/// What rendering reads: the results of the earlier stages.
pub(crate) struct Inputs<'a> {
    pub settings: &'a Settings,
    pub templates: &'a Templates,
    pub translations: &'a BTreeMap<String, String>,
    pub site: &'a Site,
    pub bodies: &'a [Arc<Body>],
    pub keywords: &'a Keywords,
    pub keyword_html: &'a KeywordHtml,
    /// Ticked once per rendered output.
    pub progress: &'a indicatif::ProgressBar,
    /// Takes each output as soon as it is rendered (a build writes it to disk); the returned
    /// output then keeps only its path and source, so memory does not grow with the site.
    /// `None`: outputs are returned whole (the dev server serves them from memory).
    pub emit: Option<&'a (dyn Fn(&Output) + Sync)>,
}

/// What a job puts into its context besides its view: the template to render, the URL path of
/// the output and the source it is made from (for messages).
pub(super) struct Prepared {
    template: String,
    path: String,
    source: PathBuf,
    /// The summaries lent to the context, to give back after the render.
    lent: Option<views::Lent>,
}

/// Renders every output of the site. With `memo` (the dev server's, from the previous run),
/// an output whose recorded reads are unchanged is taken from it instead; the memo is updated.
pub(crate) fn render(
    inputs: &Inputs<'_>,
    memo: Option<&mut Memo>,
) -> (Vec<Output>, Vec<Diagnostic>) {
    // On threads with a stack deep enough for the template guards' limits.
    guard::on_render_threads(|| render_on_this_pool(inputs, memo))
}

fn render_on_this_pool(
    inputs: &Inputs<'_>,
    mut memo: Option<&mut Memo>,
) -> (Vec<Output>, Vec<Diagnostic>) {
    let templates = inputs.templates;
    let ctx = Ctx::new(
        inputs.settings,
        inputs.site,
        inputs.bodies,
        inputs.keywords,
        keywords::index_title(inputs.settings, inputs.keyword_html, inputs.translations),
    );
    let site_view = ctx.site_view();
    let mut base = Context::new();
    base.insert("site", &site_view);
    base.insert("t", inputs.translations);
    let menu = templates
        .uses_menu_html
        .then(|| MenuCache::new(&templates.tera, &templates.budget, &base, &site_view));
    let jobs = match jobs(&ctx, &templates.tera) {
        Ok(jobs) => jobs,
        Err(diags) => return (Vec::new(), diags),
    };
    if let Some(m) = memo.as_deref_mut() {
        m.sync(&ctx);
        let global = reads::global_print(&ctx, templates, inputs.translations, inputs.keyword_html);
        m.compare(&ctx, global);
    }
    // Each job's output: kept from the last run, or to render (`None`).
    let kept: Vec<Option<Output>> = match memo.as_deref_mut() {
        Some(m) => m.kept(&jobs),
        None => vec![None; jobs.len()],
    };
    let selected: Vec<&Job> = jobs
        .iter()
        .zip(&kept)
        .filter(|(_, k)| k.is_none())
        .map(|(j, _)| j)
        .collect();
    let mut summaries = memo.as_deref_mut().map_or(Vec::new(), Memo::take_summaries);
    fill_summaries(
        &ctx,
        &mut summaries,
        &summaries_needed(&ctx, templates, &selected),
    );
    let summaries = views::Summaries::new(summaries);
    let ctx = ctx.with_summaries(&summaries);
    let rendered = run(
        &ctx,
        inputs,
        &base,
        menu.as_ref(),
        &selected,
        memo.is_some(),
    );
    if let Some(m) = memo.as_deref_mut() {
        for (job, r) in selected.iter().zip(&rendered) {
            if let Ok((o, rec)) = r {
                m.keep(**job, o, rec);
            }
        }
        m.keep_summaries(summaries.into_values());
    }
    let (fresh, diags) = finish(rendered);
    let outputs = merge_kept(kept, fresh);
    if let Some(m) = memo {
        m.finish(jobs, diags.is_empty().then_some(&outputs[..]));
    }
    (outputs, diags)
}

/// The outputs in job order: each kept one, else the next rendered one.
fn merge_kept(kept: Vec<Option<Output>>, fresh: Vec<Output>) -> Vec<Output> {
    let mut fresh = fresh.into_iter();
    let mut all = Vec::with_capacity(kept.len());
    for k in kept {
        all.extend(k.or_else(|| fresh.next()));
    }
    all.extend(fresh);
    all
}

/// Every output of the site, in order: each node's (see [`node::jobs`]), the keyword index,
/// the keyword pages, the special pages. Errors: the nodes' missing or unusable templates.
fn jobs(ctx: &Ctx<'_>, tera: &Tera) -> Result<Vec<Job>, Vec<Diagnostic>> {
    let mut jobs = Vec::with_capacity(ctx.node_count() + ctx.keyword_count() + 8);
    let mut diags = Vec::new();
    for id in NodeId::all(ctx.node_count()) {
        diags.extend(node::jobs(ctx, tera, id, &mut jobs));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    jobs.push(Job::KeywordIndex);
    jobs.extend(KeywordId::all(ctx.keyword_count()).map(Job::Keyword));
    jobs.extend(special::jobs(ctx.settings, tera));
    Ok(jobs)
}

/// Which nodes' summaries the selected listings show (all of them in a full build, a few when
/// the dev server re-renders one page's dependants).
fn summaries_needed(ctx: &Ctx<'_>, templates: &Templates, selected: &[&Job]) -> Vec<bool> {
    let mut needed = vec![false; ctx.node_count()];
    for job in selected {
        match **job {
            Job::Node(id) | Job::SectionPage(id, _) | Job::Extra(id, _) => {
                let n = ctx.node(id);
                if n.is_section() {
                    for &p in n.pages.iter().chain(&n.subsections) {
                        needed[p] = true;
                    }
                    let template = node::node_template(ctx, &templates.tera, job, id);
                    if templates.all_pages.contains(&template) {
                        for p in ctx.all_page_ids(id) {
                            needed[p] = true;
                        }
                    }
                }
            }
            Job::Keyword(k) => {
                for &p in &ctx.keyword(k).pages {
                    needed[p] = true;
                }
            }
            Job::KeywordIndex | Job::Special(..) => {}
        }
    }
    needed
}

/// Computes (in parallel) the needed summaries that `store` does not hold yet (`Null`).
fn fill_summaries(ctx: &Ctx<'_>, store: &mut Vec<Value>, needed: &[bool]) {
    store.resize(needed.len(), Value::Null);
    let missing: Vec<NodeId> = NodeId::all(needed.len())
        .filter(|&i| needed[i] && store[i].is_null())
        .collect();
    let computed: Vec<(NodeId, Value)> = missing
        .par_iter()
        .map(|&id| {
            (
                id,
                serde_json::to_value(ctx.summary(id)).unwrap_or(Value::Null),
            )
        })
        .collect();
    for (id, v) in computed {
        store[id] = v;
    }
}

/// Renders the selected jobs in parallel, handing each output to `emit` when there is one;
/// with `record`, each job's reads are noted.
fn run(
    ctx: &Ctx<'_>,
    inputs: &Inputs<'_>,
    base: &Context,
    menu: Option<&MenuCache<'_>>,
    selected: &[&Job],
    record: bool,
) -> Vec<Rendered> {
    let Inputs {
        templates,
        keyword_html,
        progress,
        emit,
        ..
    } = *inputs;
    // One context per worker, reused: cloning `site` and `t` for every page costs more than
    // rendering small pages.
    selected
        .par_iter()
        .map_init(
            || base.clone(),
            |c, job| {
                let recorder = reads::recorder(record);
                let recording;
                let ctx = match &recorder {
                    Some(r) => {
                        recording = ctx.recording(Some(r.clone()));
                        &recording
                    }
                    None => ctx,
                };
                // What an earlier render on this thread left (the menu's) is not this job's.
                let text_reads = templates.text_reads.as_deref();
                text_reads.map(text_reads::TextReads::take);
                let out = render_job(ctx, templates, c, keyword_html, job, menu);
                if let Some(r) = &recorder {
                    reads::note_texts(ctx, r, text_reads.map(text_reads::TextReads::take));
                }
                progress.inc(1);
                let out = match (out, emit) {
                    (Ok(o), Some(emit)) => {
                        emit(&o);
                        Ok(Output {
                            bytes: Default::default(),
                            ..o
                        })
                    }
                    (out, _) => out,
                };
                out.map(|o| (o, recorder.unwrap_or_default()))
            },
        )
        .collect()
}

/// One rendered job: its output and what it read, or why it failed.
type Rendered = Result<(Output, Arc<reads::Recorder>), Box<Failure>>;

/// The outputs, and one diagnostic per place in a template where renders failed.
fn finish(results: Vec<Rendered>) -> (Vec<Output>, Vec<Diagnostic>) {
    let mut outputs = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok((o, _)) => outputs.push(o),
            Err(f) => failures.push(*f),
        }
    }
    (outputs, merge_failures(failures))
}

fn render_job(
    ctx: &Ctx<'_>,
    templates: &Templates,
    c: &mut Context,
    kw_html: &KeywordHtml,
    job: &Job,
    menu: Option<&MenuCache<'_>>,
) -> Result<Output, Box<Failure>> {
    // The per-job values of the previous job on this worker.
    for key in ["page", "section", "keyword", "keywords", "breadcrumbs"] {
        c.remove(key);
    }
    // A page's own content may be printed a few times: the output cap grows with it.
    let own_content = match *job {
        Job::Node(id) | Job::SectionPage(id, _) | Job::Extra(id, _) => ctx.content_len(id),
        _ => 0,
    };
    let mut prepared = match *job {
        Job::Node(id) | Job::Extra(id, _) => node::prepare(ctx, templates, c, job, id, 1),
        Job::SectionPage(id, page_no) => node::prepare(ctx, templates, c, job, id, page_no),
        Job::Special(template, path) => special::prepare(ctx, c, template, path),
        Job::KeywordIndex => keywords::index(ctx, kw_html, c),
        Job::Keyword(k) => keywords::page(ctx, kw_html, c, k),
    };
    let result = render_prepared(templates, c, job, menu, &prepared, own_content, ctx);
    if let Some(lent) = prepared.lent.take() {
        views::give_back(ctx, c, lent);
    }
    result
}

/// Renders a prepared job: the menu, the page's URL, the template.
fn render_prepared(
    templates: &Templates,
    c: &mut Context,
    job: &Job,
    menu: Option<&MenuCache<'_>>,
    prepared: &Prepared,
    own_content: usize,
    ctx: &Ctx<'_>,
) -> Result<Output, Box<Failure>> {
    let Prepared {
        template,
        path,
        source,
        ..
    } = prepared;
    let current_url = ctx.permalink(path);
    if let Some(menu) = menu {
        let html = menu
            .html(menu.state(path, &current_url))
            .map_err(|e| failure(e, templates, MENU_TEMPLATE, source))?;
        c.insert("menu_html", html.as_str());
    }
    c.insert("current_path", path);
    c.insert("current_url", &current_url);
    let cap = guard::MAX_OUTPUT.saturating_add(guard::OUTPUT_PER_INPUT.saturating_mul(own_content));
    let html = render_capped(&templates.tera, &templates.budget, template, c, cap)
        .map_err(|e| failure(e, templates, template, source))?;
    // `{% extends %}` leaves a newline before the doctype.
    let html = match html.find(|c: char| !c.is_whitespace()) {
        Some(0) | None => html,
        Some(i) => html[i..].to_string(),
    };
    Ok(Output {
        rel: format!(
            "{}{}",
            path.trim_start_matches('/'),
            file_name(job, template)
        )
        .into(),
        bytes: Arc::new(html.into_bytes()),
        source: source.clone().into(),
    })
}

/// The file a job writes below its URL path: an extra output is named after its template, a
/// special page at a file path (`/404.html`) is that file, every other output `index.html`.
fn file_name(job: &Job, template: &str) -> String {
    match job {
        Job::Extra(..) => template.to_string(),
        Job::Special(_, p) if !p.ends_with('/') => String::new(),
        _ => "index.html".to_string(),
    }
}
