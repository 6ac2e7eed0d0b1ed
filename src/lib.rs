//! wegweiser: a static site generator for linked, keyword-indexed information portals.
//!
//! The build is a pipeline of plain data, one module per stage:
//!
//! 1. [`load`]: read `content/`, the theme and overrides → `Sources`
//! 2. [`parse`]: front matter + body, validated against content types → `Document`s
//! 3. [`resolve`]: URLs, section tree, sort order, prev/next → `Site`
//! 4. [`links`]: Markdown → HTML with internal links and anchors checked, backlinks → `Body`s
//! 5. [`taxonomy`]: Suchworte → `Keywords`
//! 6. [`render`]: view models + Tera templates → `Output`s, and [`search`]: the search index
//! 7. [`publish`]: sitemap, robots.txt, feed; relative links for file shares
//! 8. [`write`]: everything into a temporary folder, swapped into place on success
//!
//! Every stage reports problems as [`error::Diagnostic`]s; the build fails after a stage that
//! found errors, having reported all of them.

#![forbid(unsafe_code)]

pub(crate) mod active;
pub(crate) mod autoescape;
pub(crate) mod collate;
pub(crate) mod config;
pub mod error;
pub(crate) mod escape;
pub(crate) mod links;
pub(crate) mod load;
pub(crate) mod markdown;
pub(crate) mod parse;
pub(crate) mod publish;
pub(crate) mod render;
pub(crate) mod resolve;
pub mod scaffold;
pub(crate) mod search;
pub mod serve;
pub(crate) mod slug;
pub(crate) mod taxonomy;
pub(crate) mod template_guard;
pub(crate) mod write;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use config::{BadUrl, Overrides};

/// Checks a `--base-url` value; the error says what is wrong and how to fix it.
pub fn validate_base_url(url: &str) -> Result<String, config::BadUrl> {
    config::normalise_base_url(url)
}
use error::{BuildError, Diagnostic, Diagnostics};

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub root: PathBuf,
    pub overrides: Overrides,
    /// false: validate everything, write nothing (`wegweiser check`).
    pub write: bool,
    /// Show progress of long builds: a bar on a terminal, plain lines otherwise.
    pub progress: Progress,
}

/// How a build reports its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    #[default]
    Quiet,
    /// Progress bars (stderr is a terminal).
    Bar,
    /// One plain line per stage of a long build (stderr is a file or pipe).
    Lines,
}

/// Builds with fewer documents than this finish too fast to need progress output.
const LONG_BUILD: usize = 1000;

/// A progress bar for one stage, hidden unless the build is long and wants bars.
pub(crate) struct StageProgress {
    mode: Progress,
    long: bool,
    total: usize,
    started: Instant,
    name: &'static str,
    pub bar: indicatif::ProgressBar,
}

impl StageProgress {
    pub(crate) fn start(mode: Progress, name: &'static str, total: usize) -> Self {
        let long = total >= LONG_BUILD;
        let bar = if mode == Progress::Bar && long {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(name);
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        StageProgress {
            mode,
            long,
            total,
            started: Instant::now(),
            name,
            bar,
        }
    }

    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
        if self.mode == Progress::Lines && self.long {
            eprintln!(
                "{}: {} done in {} ms",
                self.name,
                self.total,
                self.started.elapsed().as_millis()
            );
        }
    }
}

/// What a successful build did.
#[derive(Debug, Default)]
pub struct Report {
    pub pages: usize,
    pub sections: usize,
    pub keywords: usize,
    pub files_written: usize,
    pub output_dir: PathBuf,
    /// Warnings (a successful build has no errors).
    pub warnings: Vec<Diagnostic>,
    /// Time per stage, for `--verbose` and profiling.
    pub timings: Vec<(&'static str, Duration)>,
}

/// Fails with all diagnostics so far if any of them is an error.
fn gate(diags: &mut Diagnostics) -> Result<(), BuildError> {
    if diags.has_errors() {
        let all = std::mem::take(diags);
        return Err(BuildError::Content(all.into_sorted()));
    }
    Ok(())
}

/// Everything one build produced. The dev server keeps it to rebuild only what a change
/// touches.
pub(crate) struct Built {
    pub settings: config::Settings,
    pub templates: render::Templates,
    pub translations: std::collections::BTreeMap<String, String>,
    pub hl: markdown::Highlighter,
    pub collator: collate::GermanCollator,
    /// Every parsed document, before the target's filtering (for re-resolving).
    pub docs: Vec<parse::Document>,
    /// Non-Markdown files of content/ (for re-resolving).
    pub assets: Vec<load::AssetFile>,
    pub site: resolve::Site,
    pub bodies: Vec<links::Body>,
    pub keywords: taxonomy::Keywords,
    pub kw_html: render::KeywordHtml,
    /// Outputs still to write (with `stream_to`, the rendered pages are already in `staging`).
    pub outputs: Vec<render::Output>,
    /// The folder the pages were written into while rendering, to finish and swap into place.
    pub staging: Option<write::Staging>,
    /// Listing summaries of the nodes, kept for incremental renders (`Null`: to compute).
    pub summaries: std::sync::Mutex<Vec<serde_json::Value>>,
    /// (source file, output-relative destination) of static files and bundle assets.
    pub copies: Vec<(PathBuf, String)>,
    pub warnings: Vec<Diagnostic>,
    pub timings: Vec<(&'static str, Duration)>,
    /// Ids the templates put on every page (see [`markdown::template_ids`]).
    pub reserved_ids: Vec<String>,
}

impl Built {
    pub(crate) fn link_env(&self) -> links::Env<'_> {
        links::Env {
            base_url: &self.settings.base_url,
            opts: markdown::Options {
                smart_punctuation: self.settings.markdown.smart_punctuation,
                trusted_html: self.settings.markdown.trusted_html,
                highlight: self.settings.markdown.highlight,
                reserved_ids: self.reserved_ids.clone(),
            },
            hl: &self.hl,
            extra: &self.settings.extra,
        }
    }
}

/// Checks `--target` against the config before anything else, as a usage error.
fn check_target_flag(opts: &BuildOptions) -> Result<(), BuildError> {
    if let (Some(t), Some(names)) = (&opts.overrides.target, config::target_names(&opts.root)) {
        if !names.contains(t) {
            let hint = if names.is_empty() {
                "config.toml declares no targets; add [targets.intranet] and [targets.internet]"
                    .to_string()
            } else {
                error::did_you_mean(t, names.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("targets are: {}", names.join(", ")))
            };
            return Err(BuildError::Usage(
                format!("unknown target `{t}` for --target"),
                Some(hint),
            ));
        }
    }
    Ok(())
}

/// `--root` must be an existing folder (a usage error otherwise); whether it holds a site is
/// for the config to say.
pub fn check_root_flag(root: &std::path::Path) -> Result<(), BuildError> {
    let shown = error::escape_controls(&root.to_string_lossy());
    let hint = "pass the site's folder (the one with config.toml), e.g. --root portal".to_string();
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(BuildError::Usage(
            format!("--root `{shown}` is a file, not a folder"),
            Some(hint),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(BuildError::Usage(
            format!("--root `{shown}` does not exist"),
            Some(hint),
        )),
        Err(e) => Err(BuildError::Usage(
            format!("--root `{shown}` cannot be read: {e}"),
            Some("check the folder's permissions".into()),
        )),
    }
}

/// Reads and validates the configuration for these options.
pub(crate) fn settings_for(opts: &BuildOptions) -> Result<config::Settings, BuildError> {
    check_root_flag(&opts.root)?;
    check_target_flag(opts)?;
    config::load(&opts.root, &opts.overrides).map_err(BuildError::Content)
}

/// Runs the whole pipeline and writes the result (unless `opts.write` is false).
pub fn build(opts: &BuildOptions) -> Result<Report, BuildError> {
    let started = Instant::now();
    let mut settings = settings_for(opts)?;
    // Also for `check`: it must fail wherever `build` fails, short of the write itself.
    let real_out = write::check_output_dir(&settings.root, &settings.output_dir)?;
    if opts.write {
        settings.output_dir = real_out;
    }
    let out_dir = settings.output_dir.clone();
    let built = build_site(
        settings,
        opts.progress,
        false,
        opts.write.then_some(&out_dir),
    )?;
    let Built {
        settings,
        site,
        keywords,
        outputs,
        copies,
        staging,
        warnings,
        mut timings,
        ..
    } = built;
    let pages = site.nodes.iter().filter(|n| !n.is_section()).count();
    let mut report = Report {
        pages,
        sections: site.nodes.len() - pages,
        keywords: keywords.list.len(),
        output_dir: settings.output_dir.clone(),
        warnings,
        ..Default::default()
    };
    if let Some(staging) = staging {
        let clock = Instant::now();
        report.files_written =
            staging.finish(&settings.output_dir, write::Plan { outputs, copies })?;
        timings.push(("write", clock.elapsed()));
    }
    drop((site, keywords));
    timings.push(("total", started.elapsed()));
    report.timings = timings;
    Ok(report)
}

/// All stages but writing: the site in memory.
/// `keep_sources`: keep every parsed document and asset in [`Built`] for later incremental
/// rebuilds (the dev server); a one-off build does not need the copy.
/// `stream_to`: write pages into a staging folder for this output directory while rendering
/// (a build); `None` keeps every output in [`Built::outputs`] (the dev server).
pub(crate) fn build_site(
    settings: config::Settings,
    progress: Progress,
    keep_sources: bool,
    stream_to: Option<&std::path::Path>,
) -> Result<Built, BuildError> {
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    let mut diags = Diagnostics::new();

    let (sources, d) = load::load(&settings)?;
    diags.extend(d);
    lap("load", &mut timings);
    let load::Sources {
        content,
        assets,
        templates,
        translations,
        static_files,
    } = sources;
    let reserved_ids = markdown::template_ids(templates.iter().map(|t| t.text.as_str()));
    // Templates are checked early so their errors come with the content errors.
    let tera = match render::templates(&settings, &templates) {
        Ok(t) => Some(t),
        Err(BuildError::Content(d)) => {
            diags.extend(d);
            None
        }
        Err(e) => return Err(e),
    };

    let (docs, d) = parse::parse(&settings, content);
    diags.extend(d);
    lap("parse", &mut timings);

    let collator = collate::GermanCollator::new();
    let (kept_docs, kept_assets) = if keep_sources {
        (docs.clone(), assets.clone())
    } else {
        (Vec::new(), Vec::new())
    };
    let (mut site, d) = resolve::resolve(&settings, &collator, docs, assets);
    let (docs, assets) = (kept_docs, kept_assets);
    diags.extend(d);
    lap("resolve", &mut timings);
    gate(&mut diags)?;

    let hl = markdown::Highlighter::new().map_err(BuildError::other)?;
    let mut built = Built {
        settings,
        templates: render::Templates::default(),
        translations,
        hl,
        collator,
        docs,
        assets,
        site: resolve::Site::default(),
        bodies: Vec::new(),
        keywords: taxonomy::Keywords::default(),
        kw_html: render::KeywordHtml::default(),
        outputs: Vec::new(),
        staging: None,
        summaries: std::sync::Mutex::new(Vec::new()),
        copies: Vec::new(),
        warnings: Vec::new(),
        timings: Vec::new(),
        reserved_ids,
    };
    let env = built.link_env();
    let stage = StageProgress::start(progress, "markdown", site.nodes.len());
    let texts = (!keep_sources).then(|| links::take_texts(&mut site));
    let keyword_docs = std::mem::take(&mut site.keyword_docs);
    // Keywords come from front matter only: collected while the bodies are rendered.
    let ((bodies, d), (keywords, kd)) = rayon::join(
        || links::render_bodies(&site, &env, &stage.bar, texts),
        || taxonomy::collect(&built.settings, &built.collator, &site, keyword_docs, true),
    );
    stage.finish();
    diags.extend(d);
    diags.extend(kd);
    lap("markdown", &mut timings);

    let (kw_html, d) = keyword_html(&site, &env, &keywords);
    diags.extend(d);
    lap("keywords", &mut timings);
    gate(&mut diags)?;
    let Some(tera) = tera else {
        gate(&mut diags)?;
        return Err(BuildError::other("templates failed to load"));
    };

    let settings = &built.settings;
    // Created only now, so content errors come before any file system error.
    let staging = stream_to.map(write::Staging::new).transpose()?;
    let emit = |o: &render::Output| {
        if let Some(staging) = &staging {
            match publish::finish_page(settings, o) {
                Some(bytes) => staging.put(&o.rel, &bytes),
                None => staging.put(&o.rel, &o.bytes),
            }
        }
    };
    let stage = StageProgress::start(progress, "render", site.nodes.len() + keywords.list.len());
    let (rendered, d) = render::render(
        &render::Inputs {
            settings,
            templates: &tera,
            translations: &built.translations,
            site: &site,
            bodies: &bodies,
            keywords: &keywords,
            keyword_html: &kw_html,
            progress: &stage.bar,
            summary_cache: keep_sources.then_some(&built.summaries),
            emit: staging.is_some().then_some(&emit),
        },
        &|_| true,
    );
    stage.finish();
    diags.extend(d);
    lap("render", &mut timings);
    let summaries: Vec<String> = bodies.iter().map(|b| b.summary.clone()).collect();
    let own: Vec<&str> = static_files.iter().map(|s| s.rel.as_str()).collect();
    // Written pages are kept (without their bytes) only for the collision check.
    let (written, rendered) = if staging.is_some() {
        (rendered, Vec::new())
    } else {
        (Vec::new(), rendered)
    };
    let mut outputs = publish::publish(settings, &site, &summaries, &own, rendered);
    if settings.target.search && !diags.has_errors() {
        outputs.extend(search::index(settings, &site, &bodies)?);
        lap("search", &mut timings);
    }

    let mut copies: Vec<(PathBuf, String)> =
        static_files.into_iter().map(|s| (s.abs, s.rel)).collect();
    copies.extend(
        site.asset_copies
            .iter()
            .map(|(a, dest)| (a.abs.clone(), dest.clone())),
    );
    diags.extend(check_collisions(
        settings,
        written.iter().chain(&outputs),
        &copies,
    ));
    gate(&mut diags)?;

    built.templates = tera;
    built.site = site;
    built.bodies = bodies;
    built.keywords = keywords;
    built.kw_html = kw_html;
    built.outputs = outputs;
    built.staging = staging;
    built.copies = copies;
    built.warnings = diags.into_sorted();
    built.timings = timings;
    Ok(built)
}

/// HTML of the keyword index text and the keyword descriptions.
pub(crate) fn keyword_html(
    site: &resolve::Site,
    env: &links::Env<'_>,
    keywords: &taxonomy::Keywords,
) -> (render::KeywordHtml, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut kw_html = render::KeywordHtml::default();
    if let Some(doc) = &keywords.index_doc {
        let (html, d) = links::render_detached(site, env, doc);
        diags.extend(d);
        kw_html.index = html;
        kw_html.index_title = Some(doc.fm.title.clone());
        kw_html.index_description = doc.fm.description.clone();
    }
    for (i, k) in keywords.list.iter().enumerate() {
        if let Some(doc) = &k.description {
            let (html, d) = links::render_detached(site, env, doc);
            diags.extend(d);
            kw_html.descriptions.insert(i, html);
        }
    }
    (kw_html, diags)
}

/// Every output path once; static files and assets may not shadow pages.
fn check_collisions<'a>(
    settings: &config::Settings,
    outputs: impl Iterator<Item = &'a render::Output>,
    copies: &[(PathBuf, String)],
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut seen: HashMap<&str, PathBuf> = HashMap::new();
    for o in outputs {
        if let Some(prev) = seen.insert(o.rel.as_str(), o.source.clone()) {
            diags.push(
                Diagnostic::error(
                    &o.source,
                    format!(
                        "output file {} is also written for {}",
                        o.rel,
                        prev.display()
                    ),
                )
                .with_hint("two sources give the same URL; rename one or change its slug"),
            );
        }
        if !write::is_safe_rel(&o.rel) {
            diags.push(Diagnostic::error(
                &o.source,
                format!("unsafe output path `{}`", o.rel),
            ));
        }
    }
    for (src, dest) in copies {
        let shown = src
            .strip_prefix(&settings.root)
            .unwrap_or(src)
            .to_path_buf();
        if let Some(prev) = seen.get(dest.as_str()) {
            diags.push(
                Diagnostic::error(
                    &shown,
                    format!(
                        "file {dest} would overwrite the page made from {}",
                        prev.display()
                    ),
                )
                .with_hint("rename the file"),
            );
        }
    }
    diags
}

/// Thin wrappers over crate-internal stages for the cargo-fuzz targets in `fuzz/`
/// (see docs/robustness.md). Not a public API: no stability, no documentation.
#[doc(hidden)]
pub mod fuzz_api {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use crate::markdown::{self, LinkError, LinkResolver, LinkTarget};
    use crate::{collate, config, links, load, parse, resolve, slug};

    /// Base URL of the in-memory site; internal links resolve below it.
    pub const BASE_URL: &str = "https://example.org/sub/";

    const CONFIG: &str = r#"
title = "Fuzz"
base_url = "https://example.org/sub/"
[extra]
anschrift = "Musterstraße 1"
[types.projekt.fields]
antragsteller = { type = "text", required = true }
foerderung = { type = "money", currency = "DM" }
status = { type = "text", options = ["bewilligt", "beantragt"] }
tranche = { type = "integer" }
stand = { type = "date" }
partner = { type = "list" }
aktiv = { type = "bool" }
ziel = { type = "markdown" }
"#;

    fn settings() -> &'static config::Settings {
        static S: OnceLock<config::Settings> = OnceLock::new();
        S.get_or_init(|| {
            config::parse(CONFIG, Path::new("/fuzz"), &crate::Overrides::default())
                .expect("fuzz config is valid")
        })
    }

    /// The link environment of the tiny site: plain Markdown, no highlighting, untrusted HTML.
    fn fuzz_env(s: &'static config::Settings) -> links::Env<'static> {
        links::Env {
            base_url: &s.base_url,
            opts: markdown::Options {
                smart_punctuation: false,
                highlight: false,
                trusted_html: false,
                reserved_ids: Vec::new(),
            },
            hl: highlighter(),
            extra: &s.extra,
        }
    }

    fn highlighter() -> &'static markdown::Highlighter {
        static H: OnceLock<markdown::Highlighter> = OnceLock::new();
        H.get_or_init(|| markdown::Highlighter::new().expect("syntaxes load"))
    }

    fn source(rel: &str, text: &str) -> load::SourceFile {
        load::SourceFile {
            rel: rel.into(),
            shown: PathBuf::from("content").join(rel),
            text: text.into(),
        }
    }

    /// A tiny site: home, a section, a page, a draft and an internal page (left out).
    fn site() -> &'static resolve::Site {
        static SITE: OnceLock<resolve::Site> = OnceLock::new();
        SITE.get_or_init(|| {
            let files = [
                ("_index.md", "+++\ntitle = \"Start\"\n+++\n## Einleitung\n"),
                (
                    "initiativen/_index.md",
                    "+++\ntitle = \"Initiativen\"\n+++\n",
                ),
                (
                    "initiativen/equal.md",
                    "+++\ntitle = \"EQUAL\"\n+++\n## Ziele\n",
                ),
                (
                    "initiativen/entwurf.md",
                    "+++\ntitle = \"E\"\ndraft = true\n+++\n",
                ),
                (
                    "initiativen/intern.md",
                    "+++\ntitle = \"I\"\nintern = true\n+++\n",
                ),
            ];
            let files = files.iter().map(|(r, t)| source(r, t)).collect();
            let (docs, d) = parse::parse(settings(), files);
            assert!(d.is_empty(), "{d:?}");
            let collator = collate::GermanCollator::new();
            let (site, d) = resolve::resolve(settings(), &collator, docs, Vec::new());
            assert!(d.is_empty(), "{d:?}");
            site
        })
    }

    /// `parse::split_front_matter`: byte offsets (front matter start, end, body) or the message.
    pub fn split_front_matter(s: &str) -> Result<(usize, usize, usize), String> {
        parse::split_front_matter(s).map_err(|(message, _hint)| message)
    }

    /// Parses `s` as a typed page (`projekte/p.md`, type `projekt`) and as a section
    /// (`_index.md`): returns how many of the two parsed and every diagnostic, rendered.
    pub fn parse_file(s: &str) -> (usize, Vec<String>) {
        let files = vec![
            source(
                "projekte/_index.md",
                "+++\ntitle = \"P\"\npage_type = \"projekt\"\n+++\n",
            ),
            source("projekte/p.md", s),
            source("_index.md", s),
        ];
        let (docs, diags) = parse::parse(settings(), files);
        let shown = diags.iter().map(|d| d.render(false)).collect();
        (docs.len().saturating_sub(1), shown)
    }

    /// Resolves `@/…` as an internal link (to `/…`, an error if it contains `missing`).
    struct Dummy;

    impl LinkResolver for Dummy {
        fn resolve(&self, dest: &str) -> Result<Option<LinkTarget>, LinkError> {
            let Some(rest) = dest.strip_prefix("@/") else {
                return Ok(None);
            };
            if rest.contains("missing") {
                return Err(LinkError {
                    message: "missing".into(),
                    hint: None,
                });
            }
            Ok(Some(LinkTarget {
                url: format!("/{rest}"),
                page: 0,
                anchor: rest.split_once('#').map(|(_, a)| a.to_string()),
            }))
        }
    }

    /// Renders `s` as a page body (highlighting and smart punctuation on, raw HTML sanitised)
    /// and as an inline field (both off, raw HTML trusted), with a dummy link resolver; returns
    /// the page body's HTML.
    pub fn render_markdown(s: &str) -> String {
        let hl = highlighter();
        let page = markdown::Options {
            smart_punctuation: true,
            highlight: true,
            trusted_html: false,
            reserved_ids: Vec::new(),
        };
        let field = markdown::Options {
            smart_punctuation: false,
            highlight: false,
            trusted_html: true,
            reserved_ids: Vec::new(),
        };
        let r = markdown::render(s, &page, hl, &Dummy);
        for off in r
            .errors
            .iter()
            .map(|e| e.0)
            .chain(r.lints.iter().map(|l| l.offset))
        {
            let _ = crate::error::position(s, off);
        }
        let _ = markdown::render_inline(s, &field, hl, &Dummy);
        r.html
    }

    /// Templates beside the fuzzed ones, for them to extend, import and include.
    const TEMPLATES: [(&str, &str); 6] = [
        (
            "base.html",
            "<title>{% block title %}{{ site.title }}{% endblock title %}</title>\n\
             {% block main %}{% endblock main %}",
        ),
        (
            "macros.html",
            "{% macro list(items) %}{% for i in items %}{{ i.title }}{% endfor %}{% endmacro list %}",
        ),
        ("partials/teil.html", "{{ current_path }}"),
        ("section.html", "{{ section.title }}{{ section.content | safe }}"),
        ("keywords.html", "{% for g in keywords.groups %}{{ g.letter }}{% endfor %}"),
        ("keyword.html", "{{ keyword.name }}"),
    ];

    /// Loads `text` as the site's templates and renders the tiny site with them: the text is
    /// split at lines `%%` into `page.html`, `index.html` and `partials/menu.html` (each
    /// falling back to a plain one); the others are fixed. Returns the rendered outputs (path
    /// and text) or every diagnostic, rendered.
    pub fn render_templates(text: &str) -> Result<Vec<(String, String)>, Vec<String>> {
        let mut parts = text.splitn(3, "\n%%\n");
        let mut list: Vec<(&str, &str)> = vec![
            ("page.html", parts.next().unwrap_or("{{ page.title }}")),
            ("index.html", parts.next().unwrap_or("{{ section.title }}")),
        ];
        if let Some(menu) = parts.next() {
            list.push((crate::render::MENU_TEMPLATE, menu));
        }
        list.extend(TEMPLATES);
        let templates: Vec<load::Template> = list
            .into_iter()
            .map(|(name, text)| load::Template {
                name: name.into(),
                shown: PathBuf::from("templates").join(name),
                text: text.into(),
            })
            .collect();
        let shown = |d: Vec<crate::error::Diagnostic>| -> Vec<String> {
            d.iter().map(|d| d.render(false)).collect()
        };
        let s = settings();
        let tera = match crate::render::templates(s, &templates) {
            Ok(t) => t,
            Err(crate::error::BuildError::Content(d)) => return Err(shown(d)),
            Err(e) => return Err(vec![format!("{e:?}")]),
        };
        let site = site();
        let env = fuzz_env(s);
        let bar = indicatif::ProgressBar::hidden();
        let (bodies, _) = links::render_bodies(site, &env, &bar, None);
        let collator = collate::GermanCollator::new();
        let (keywords, _) = crate::taxonomy::collect(s, &collator, site, Vec::new(), false);
        let translations = std::collections::BTreeMap::new();
        let kw_html = crate::render::KeywordHtml::default();
        let (outputs, diags) = crate::render::render(
            &crate::render::Inputs {
                settings: s,
                templates: &tera,
                translations: &translations,
                site,
                bodies: &bodies,
                keywords: &keywords,
                keyword_html: &kw_html,
                progress: &bar,
                summary_cache: None,
                emit: None,
            },
            &|_| true,
        );
        if !diags.is_empty() {
            return Err(shown(diags));
        }
        Ok(outputs
            .into_iter()
            .map(|o| (o.rel, String::from_utf8_lossy(&o.bytes).into_owned()))
            .collect())
    }

    /// `slug::slugify`.
    pub fn slugify(s: &str) -> String {
        slug::slugify(s)
    }

    /// Renders `[Link](<dest>)` (ASCII punctuation backslash-escaped, line breaks dropped: they
    /// cannot be written in a destination) on a new page `initiativen/neu.md` of the tiny site
    /// with the real resolver: the HTML, or the diagnostics (missing page, outside content/…).
    pub fn resolve_link(dest: &str) -> Result<String, String> {
        let mut text = String::from("+++\ntitle = \"Neu\"\n+++\n[Link](<");
        let body_offset = text.find("[Link]").unwrap_or(0);
        for c in dest.chars().filter(|c| !matches!(c, '\n' | '\r')) {
            if c.is_ascii_punctuation() {
                text.push('\\');
            }
            text.push(c);
        }
        text.push_str(">)\n");
        let doc = parse::Document {
            src: source("initiativen/neu.md", &text),
            kind: parse::Kind::Page,
            fm: parse::FrontMatter::default(),
            body_offset,
        };
        let s = settings();
        let env = fuzz_env(s);
        let (html, diags) = links::render_detached(site(), &env, &doc);
        if diags.is_empty() {
            Ok(html)
        } else {
            Err(diags.iter().map(|d| d.render(false)).collect())
        }
    }
}
