//! wegweiser: a static site generator for linked, keyword-indexed information portals.
//!
//! The build is a pipeline of plain data ([`model`]), one module per stage, run in this order
//! by [`pipeline::run`] (see docs/architecture.md):
//!
//! 0. [`config`]: `config.toml` → `Settings`
//! 1. [`load`]: read `content/`, the theme and overrides → `Sources` (templates compiled)
//! 2. [`parse`]: front matter + body, validated against content types → `Document`s
//! 3. [`resolve`]: URLs, section tree, sort order, prev/next → `Site`
//! 4. [`links`]: Markdown → HTML with internal links and anchors checked, backlinks → `Body`s
//! 5. [`taxonomy`]: Suchworte → `Keywords`
//! 6. [`render`]: view models + Tera templates → `Output`s
//! 7. [`publish`]: sitemap, robots.txt, feed, relative links; [`search`]: the search index
//! 8. [`write`]: everything into a staging folder, swapped into place on success
//!
//! Every stage reports problems as [`error::Diagnostic`]s; the build fails after a stage that
//! found errors, having reported all of them. The dev server ([`serve`]) runs the same
//! pipeline with a memo of its previous run.

#![forbid(unsafe_code)]
// No function over 80 lines (clippy.toml), checked by `cargo clippy -- -D warnings` in CI.
#![warn(clippy::too_many_lines)]

pub(crate) mod active;
pub(crate) mod autoescape;
pub(crate) mod collate;
pub(crate) mod config;
pub mod error;
pub(crate) mod escape;
pub(crate) mod files;
pub(crate) mod hash;
pub(crate) mod links;
pub(crate) mod load;
pub(crate) mod markdown;
pub(crate) mod model;
pub(crate) mod parse;
pub(crate) mod pipeline;
pub(crate) mod publish;
pub(crate) mod render;
pub(crate) mod resolve;
pub mod scaffold;
pub(crate) mod search;
pub mod serve;
pub(crate) mod slug;
pub(crate) mod taxonomy;
pub(crate) mod template_guard;
pub(crate) mod text;
pub(crate) mod write;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use config::{BadUrl, Overrides};

/// Checks a `--base-url` value; the error says what is wrong and how to fix it.
pub fn validate_base_url(url: &str) -> Result<String, config::BadUrl> {
    config::normalise_base_url(url)
}
use error::{BuildError, Diagnostic};

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
    let real_out = files::check_output_dir(&settings.root, &settings.output_dir)?;
    if opts.write {
        settings.output_dir = real_out;
    }
    let out_dir = opts.write.then_some(settings.output_dir.as_path());
    let run = pipeline::run(
        &settings,
        &mut pipeline::Memo::default(),
        None,
        opts.progress,
        out_dir,
    )?;
    let mut timings = run.timings;
    let mut report = Report {
        pages: run.pages,
        sections: run.sections,
        keywords: run.keywords,
        output_dir: settings.output_dir.clone(),
        warnings: run.warnings,
        ..Default::default()
    };
    if let Some(staging) = run.staging {
        let clock = Instant::now();
        let plan = write::Plan {
            outputs: run.outputs,
            copies: run.copies,
        };
        report.files_written = staging.finish(&settings.output_dir, plan)?;
        timings.push(("write", clock.elapsed()));
    }
    timings.push(("total", started.elapsed()));
    report.timings = timings;
    Ok(report)
}

/// The dev server's rebuilds without the server, for the incremental-rebuild property test
/// (tests/it/incremental.rs). Not a public API: no stability, no documentation.
#[doc(hidden)]
pub mod preview_api {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use crate::{pipeline, serve, BuildOptions};

    /// Where the preview pretends to listen.
    const ORIGIN: &str = "http://127.0.0.1:1111";

    /// Every output path and its bytes (static files and assets as `copy of <source>`, the
    /// warnings as `(warnings)`), or the errors, rendered. The search index is left out: the preview builds it once at the start.
    pub type Outputs = Result<BTreeMap<String, Vec<u8>>, Vec<String>>;

    /// The pipeline with the memo the dev server keeps between runs.
    pub struct Preview {
        opts: BuildOptions,
        memo: pipeline::Memo,
    }

    impl Preview {
        pub fn new(opts: BuildOptions) -> Self {
            Preview {
                opts,
                memo: pipeline::Memo::keeping(),
            }
        }

        /// Runs after `changed` files changed (`None`: unknown, as at the start), as `serve`
        /// does.
        pub fn run(&mut self, changed: Option<&[PathBuf]>) -> Outputs {
            run(&self.opts, &mut self.memo, changed)
        }
    }

    /// A run from scratch, as a full build of the preview.
    pub fn fresh(opts: &BuildOptions) -> Outputs {
        run(opts, &mut pipeline::Memo::default(), None)
    }

    fn run(opts: &BuildOptions, memo: &mut pipeline::Memo, changed: Option<&[PathBuf]>) -> Outputs {
        let shown = |e: crate::error::BuildError| match e {
            crate::error::BuildError::Content(d) => d.iter().map(|d| d.render(false)).collect(),
            e => vec![format!("{e:?}")],
        };
        let settings = serve::preview_settings(opts, ORIGIN).map_err(shown)?;
        let run = pipeline::run(&settings, memo, changed, opts.progress, None).map_err(shown)?;
        let mut all: BTreeMap<String, Vec<u8>> = run
            .outputs
            .into_iter()
            .filter(|o| !o.rel.starts_with(&format!("{}/", crate::model::BUNDLE_DIR)))
            .map(|o| (o.rel.to_string(), o.bytes.to_vec()))
            .collect();
        let warnings: Vec<String> = run.warnings.iter().map(|d| d.render(false)).collect();
        all.insert("(warnings)".into(), warnings.concat().into_bytes());
        for (src, dest) in run.copies {
            all.insert(dest, format!("copy of {}", src.display()).into_bytes());
        }
        Ok(all)
    }
}

/// Thin wrappers over crate-internal stages for the cargo-fuzz targets in `fuzz/`
/// (see docs/robustness.md). Not a public API: no stability, no documentation.
#[doc(hidden)]
pub mod fuzz_api {
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use crate::markdown::{self, LinkError, LinkResolver};
    use crate::model::LinkTarget;
    use crate::{collate, config, links, model, parse, resolve, slug};

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

    fn source(rel: &str, text: &str) -> model::SourceFile {
        model::SourceFile::new(rel.into(), PathBuf::from("content").join(rel), text.into())
    }

    /// A tiny site: home, a section, a page, a draft and an internal page (left out).
    fn site() -> &'static model::Site {
        static SITE: OnceLock<model::Site> = OnceLock::new();
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
            let files: Vec<_> = files.iter().map(|(r, t)| source(r, t)).collect();
            let (docs, d) = parse::parse(settings(), &files, &mut parse::Memo::default());
            assert!(d.is_empty(), "{d:?}");
            let collator = collate::GermanCollator::new();
            let (site, d) = resolve::resolve(
                settings(),
                &collator,
                docs,
                Vec::new(),
                &mut resolve::Memo::default(),
            );
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
        let (docs, diags) = parse::parse(settings(), &files, &mut parse::Memo::default());
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
                page: model::NodeId::new(0),
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
        let templates: Vec<model::Template> = list
            .into_iter()
            .map(|(name, text)| model::Template {
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
        let (bodies, _) = links::render_bodies(site, &env, &bar, None, &mut links::Memo::default());
        let collator = collate::GermanCollator::new();
        let (keywords, _) = crate::taxonomy::collect(
            s,
            &collator,
            site,
            Vec::new(),
            false,
            &mut crate::taxonomy::Memo::default(),
        );
        let translations = std::collections::BTreeMap::new();
        let kw_html = crate::model::KeywordHtml::default();
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
                emit: None,
            },
            None,
        );
        if !diags.is_empty() {
            return Err(shown(diags));
        }
        Ok(outputs
            .into_iter()
            .map(|o| {
                (
                    o.rel.to_string(),
                    String::from_utf8_lossy(&o.bytes).into_owned(),
                )
            })
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
        let doc = model::Document {
            src: source("initiativen/neu.md", &text),
            kind: model::Kind::Page,
            fm: model::FrontMatter::default(),
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
