//! The pipeline: every stage in the documented order, each a function from the previous
//! stage's value (see [`crate::model`]) to its own.
//!
//! [`run`] is the whole build. The dev server calls the same function for every change, with a
//! [`Memo`] of the previous run: the per-document stages (load, parse, Markdown) and the
//! per-output stage (render) take from it whatever they would compute again from the same
//! inputs, and the site-wide stages (resolve, keywords, publish, checks) simply run again. So
//! an incremental rebuild follows the same rules as a full build, by construction.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Settings;
use crate::error::{BuildError, Diagnostic, Diagnostics};
use crate::model::{KeywordHtml, Keywords, Output, Site, Sources, Template};
use crate::{collate, links, load, markdown, parse, publish, render, resolve, search, taxonomy};
use crate::{write, Progress, StageProgress};

/// (source file, output-relative destination) of static files and bundle assets.
type Copies = Vec<(PathBuf, String)>;

/// What one run produced.
pub(crate) struct Run {
    /// Outputs in memory; without their bytes where they are in `staging` already.
    pub outputs: Vec<Output>,
    /// The folder the pages were written into while rendering, to finish and swap into place.
    pub staging: Option<write::Staging>,
    /// (source file, output-relative destination) of static files and bundle assets.
    pub copies: Vec<(PathBuf, String)>,
    pub warnings: Vec<Diagnostic>,
    pub timings: Vec<(&'static str, Duration)>,
    pub pages: usize,
    pub sections: usize,
    pub keywords: usize,
    /// Built on the memo of a previous run with the same settings.
    pub incremental: bool,
}

/// What a run keeps for the next one (the dev server). A one-off build passes
/// [`Memo::default`], which keeps nothing and frees each source text once it is rendered.
#[derive(Default)]
pub(crate) struct Memo {
    keep: bool,
    /// The settings of the memo's contents (their debug form): others invalidate all of it.
    settings: String,
    /// Shared with the run that made it, and taken back whole (not copied) by the next.
    sources: Option<Arc<Sources>>,
    templates: Option<(Vec<Template>, Arc<render::Templates>)>,
    parsed: parse::Memo,
    resolved: resolve::Memo,
    keywords: taxonomy::Memo,
    bodies: links::Memo,
    renders: render::Memo,
    published: publish::Memo,
    collisions: write::Collisions,
    collator: Option<Arc<collate::GermanCollator>>,
    highlighter: Option<Arc<markdown::Highlighter>>,
    /// The search index of the first run (rebuilt when the settings change).
    search: Option<Vec<Output>>,
}

impl Memo {
    /// A memo that keeps each run's results for the next.
    pub(crate) fn keeping() -> Self {
        Memo {
            keep: true,
            ..Memo::default()
        }
    }

    /// Forgets everything made with other settings; whether a previous run's results with
    /// these settings are there to build on.
    fn for_settings(&mut self, settings: &Settings) -> bool {
        let key = format!("{settings:?}");
        if self.settings != key {
            *self = Memo {
                keep: self.keep,
                settings: key,
                ..Memo::default()
            };
        }
        self.sources.is_some()
    }

    fn collator(&mut self) -> Arc<collate::GermanCollator> {
        self.collator
            .get_or_insert_with(|| Arc::new(collate::GermanCollator::new()))
            .clone()
    }

    fn highlighter(&mut self) -> Result<Arc<markdown::Highlighter>, BuildError> {
        if let Some(h) = &self.highlighter {
            return Ok(h.clone());
        }
        let h = Arc::new(markdown::Highlighter::new().map_err(BuildError::other)?);
        self.highlighter = Some(h.clone());
        Ok(h)
    }
}

/// Times the stages.
struct Clock {
    timings: Vec<(&'static str, Duration)>,
    lap: Instant,
}

impl Clock {
    fn new() -> Self {
        Clock {
            timings: Vec::new(),
            lap: Instant::now(),
        }
    }

    fn lap(&mut self, name: &'static str) {
        self.timings.push((name, self.lap.elapsed()));
        self.lap = Instant::now();
    }
}

/// Fails with all diagnostics so far if any of them is an error.
fn gate(diags: &mut Diagnostics) -> Result<(), BuildError> {
    if diags.has_errors() {
        let all = std::mem::take(diags);
        return Err(BuildError::Content(all.into_sorted()));
    }
    Ok(())
}

/// Runs every stage. `changed`: the files changed since the memo's run, if known (the dev
/// server's watcher); `out_dir`: write each page into a staging folder for this output
/// directory as soon as it is rendered (a build; the dev server keeps them in memory).
pub(crate) fn run(
    settings: &Settings,
    memo: &mut Memo,
    changed: Option<&[PathBuf]>,
    progress: Progress,
    out_dir: Option<&std::path::Path>,
) -> Result<Run, BuildError> {
    let incremental = memo.for_settings(settings);
    let mut clock = Clock::new();
    let mut diags = Diagnostics::new();
    // 1. load: the files, and the templates compiled.
    let mut sources = load_stage(settings, memo, changed, &mut diags)?;
    let templates = templates_stage(settings, memo, &sources.templates, &mut diags)?;
    clock.lap("load");
    // 2. parse
    let (docs, d) = parse::parse(settings, &sources.content, &mut memo.parsed);
    diags.extend(d);
    // A one-off build needs the content files no more: the documents hold their texts, which
    // the Markdown stage frees one by one (`links::take_texts`).
    if !memo.keep {
        if let Some(s) = Arc::get_mut(&mut sources) {
            s.content = Vec::new();
        }
    }
    clock.lap("parse");
    // 3. resolve
    let collator = memo.collator();
    let (mut site, d) = resolve::resolve(
        settings,
        &collator,
        docs,
        sources.assets.clone(),
        &mut memo.resolved,
    );
    diags.extend(d);
    clock.lap("resolve");
    gate(&mut diags)?;
    // 4. links (Markdown) and 5. keywords
    let reserved_ids = markdown::template_ids(sources.templates.iter().map(|t| t.text.as_str()));
    let hl = memo.highlighter()?;
    let env = link_env(settings, &hl, reserved_ids);
    let (bodies, keywords) =
        links_and_keywords(settings, memo, &env, &mut site, progress, &mut diags);
    clock.lap("markdown");
    let (kw_html, d) = links::keyword_html(&site, &env, &keywords);
    diags.extend(d);
    clock.lap("keywords");
    gate(&mut diags)?;
    let Some(templates) = templates else {
        return Err(BuildError::other("templates failed to load"));
    };
    // 6. render, 7. publish (and search), 8. write: pages go to the staging folder as they
    // are rendered; it is created only now, so content errors come before file system errors.
    let staging = out_dir.map(write::Staging::new).transpose()?;
    let sink = staging.as_ref();
    let staged = Staged {
        settings,
        sources: &sources,
        site: &site,
        bodies: &bodies,
        keywords: &keywords,
    };
    let outputs = render_stage(
        &staged, memo, &templates, &kw_html, progress, sink, &mut diags,
    );
    clock.lap("render");
    let (outputs, copies) = publish_stage(
        &staged,
        memo,
        outputs,
        sink.is_some(),
        &mut diags,
        &mut clock,
    )?;
    clock.lap("publish");
    gate(&mut diags)?;
    let pages = site.nodes.iter().filter(|n| !n.is_section()).count();
    let (sections, keyword_count) = (site.nodes.len() - pages, keywords.list.len());
    if memo.keep {
        // The next run sorts this tree and these keywords again if nothing else changed.
        memo.resolved.keep(site);
        memo.keywords.keep(keywords);
    }
    Ok(Run {
        outputs,
        staging,
        copies,
        warnings: diags.into_sorted(),
        timings: clock.timings,
        pages,
        sections,
        keywords: keyword_count,
        incremental,
    })
}

/// What the stages after the keywords read.
struct Staged<'a> {
    settings: &'a Settings,
    sources: &'a Sources,
    site: &'a Site,
    bodies: &'a [Arc<crate::model::Body>],
    keywords: &'a Keywords,
}

/// Stage 1: all files, or the memo's with the changed ones read again.
fn load_stage(
    settings: &Settings,
    memo: &mut Memo,
    changed: Option<&[PathBuf]>,
    diags: &mut Diagnostics,
) -> Result<Arc<Sources>, BuildError> {
    // Taken out: a run that fails from here on leaves no stale sources behind.
    let prev = memo.sources.take();
    let reloaded = match (prev, changed) {
        (Some(prev), Some(changed)) => {
            let prev = Arc::try_unwrap(prev).unwrap_or_else(|shared| (*shared).clone());
            load::reload(settings, prev, changed)
        }
        _ => None,
    };
    let (sources, d) = match reloaded {
        Some(r) => r,
        None => load::load(settings)?,
    };
    diags.extend(d);
    let sources = Arc::new(sources);
    if memo.keep {
        memo.sources = Some(sources.clone());
    }
    Ok(sources)
}

/// The templates compiled (from the memo when their texts are the same). Their errors join
/// the content errors; `None` then.
fn templates_stage(
    settings: &Settings,
    memo: &mut Memo,
    templates: &[Template],
    diags: &mut Diagnostics,
) -> Result<Option<Arc<render::Templates>>, BuildError> {
    if let Some((texts, compiled)) = &memo.templates {
        if texts == templates {
            return Ok(Some(compiled.clone()));
        }
    }
    match render::templates(settings, templates) {
        Ok(t) => {
            let t = Arc::new(t);
            if memo.keep {
                memo.templates = Some((templates.to_vec(), t.clone()));
            }
            Ok(Some(t))
        }
        Err(BuildError::Content(d)) => {
            diags.extend(d);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// What rendering Markdown needs besides the site.
pub(crate) fn link_env<'a>(
    settings: &'a Settings,
    hl: &'a markdown::Highlighter,
    reserved_ids: Vec<String>,
) -> links::Env<'a> {
    links::Env {
        base_url: &settings.base_url,
        opts: markdown::Options {
            smart_punctuation: settings.markdown.smart_punctuation,
            trusted_html: settings.markdown.trusted_html,
            highlight: settings.markdown.highlight,
            reserved_ids,
        },
        hl,
        extra: &settings.extra,
    }
}

/// Stages 4 and 5, side by side: the keywords come from front matter only, so they are
/// collected while the bodies are rendered.
fn links_and_keywords(
    settings: &Settings,
    memo: &mut Memo,
    env: &links::Env<'_>,
    site: &mut Site,
    progress: Progress,
    diags: &mut Diagnostics,
) -> (Vec<Arc<crate::model::Body>>, Keywords) {
    let stage = StageProgress::start(progress, "markdown", site.nodes.len());
    // A one-off build frees each text once rendered (the memo's copies must go first).
    // (The parse and resolve memos hold the documents: without them, the texts are unshared.)
    let texts = (!memo.keep).then(|| {
        memo.parsed = parse::Memo::default();
        memo.resolved = resolve::Memo::default();
        links::take_texts(site)
    });
    let keyword_docs = std::mem::take(&mut site.keyword_docs);
    let collator = memo.collator();
    let bodies_memo = &mut memo.bodies;
    let keywords_memo = &mut memo.keywords;
    let site: &Site = site;
    let ((bodies, d), (keywords, kd)) = rayon::join(
        || links::render_bodies(site, env, &stage.bar, texts, bodies_memo),
        || taxonomy::collect(settings, &collator, site, keyword_docs, true, keywords_memo),
    );
    stage.finish();
    diags.extend(d);
    diags.extend(kd);
    (bodies, keywords)
}

/// Stage 6: every output rendered; pages go to the sink as they are done.
fn render_stage(
    s: &Staged<'_>,
    memo: &mut Memo,
    templates: &render::Templates,
    kw_html: &KeywordHtml,
    progress: Progress,
    sink: Option<&write::Staging>,
    diags: &mut Diagnostics,
) -> Vec<Output> {
    let settings = s.settings;
    let emit = |o: &Output| {
        if let Some(sink) = sink {
            match publish::finish_page(settings, o) {
                Some(bytes) => sink.put(&o.rel, &bytes),
                None => sink.put(&o.rel, &o.bytes),
            }
        }
    };
    let total = s.site.nodes.len() + s.keywords.list.len();
    let stage = StageProgress::start(progress, "render", total);
    let (rendered, d) = render::render(
        &render::Inputs {
            settings,
            templates,
            translations: &s.sources.translations,
            site: s.site,
            bodies: s.bodies,
            keywords: s.keywords,
            keyword_html: kw_html,
            progress: &stage.bar,
            emit: sink.is_some().then_some(&emit),
        },
        memo.keep.then_some(&mut memo.renders),
    );
    stage.finish();
    diags.extend(d);
    rendered
}

/// Stage 7: sitemap, feed, robots.txt, relative links, the search index; the copies; every
/// output path checked once.
fn publish_stage(
    s: &Staged<'_>,
    memo: &mut Memo,
    rendered: Vec<Output>,
    streamed: bool,
    diags: &mut Diagnostics,
    clock: &mut Clock,
) -> Result<(Vec<Output>, Copies), BuildError> {
    let settings = s.settings;
    let own: Vec<&str> = s
        .sources
        .static_files
        .iter()
        .map(|f| f.rel.as_str())
        .collect();
    // Streamed pages are kept (without their bytes) only for the collision check.
    let (written, rendered) = if streamed {
        (rendered, Vec::new())
    } else {
        (Vec::new(), rendered)
    };
    let mut outputs = publish::publish(
        settings,
        s.site,
        s.bodies,
        &own,
        rendered,
        &mut memo.published,
    );
    if settings.target.search && !diags.has_errors() {
        let index = match memo.search.take() {
            Some(index) => index,
            None => search::index(settings, s.site, s.bodies)?,
        };
        if memo.keep {
            memo.search = Some(index.clone());
        }
        outputs.extend(index);
        clock.lap("search");
    }
    let mut copies: Vec<(PathBuf, String)> = s
        .sources
        .static_files
        .iter()
        .map(|f| (f.abs.clone(), f.rel.clone()))
        .collect();
    copies.extend(
        s.site
            .asset_copies
            .iter()
            .map(|(a, dest)| (a.abs.clone(), dest.clone())),
    );
    let outs = written.iter().chain(&outputs);
    diags.extend(memo.collisions.check(settings, outs, &copies));
    Ok((outputs, copies))
}
