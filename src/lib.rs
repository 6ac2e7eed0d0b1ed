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

pub(crate) mod collate;
pub(crate) mod config;
pub mod error;
pub(crate) mod links;
pub(crate) mod load;
pub(crate) mod markdown;
pub(crate) mod parse;
pub(crate) mod publish;
pub(crate) mod render;
pub(crate) mod resolve;
pub(crate) mod search;
pub(crate) mod slug;
pub(crate) mod taxonomy;
pub(crate) mod write;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use config::Overrides;

/// Checks a `--base-url` value; the message says what is wrong.
pub fn validate_base_url(url: &str) -> Result<String, String> {
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

/// Runs the whole pipeline.
pub fn build(opts: &BuildOptions) -> Result<Report, BuildError> {
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };
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
    let settings = config::load(&opts.root, &opts.overrides).map_err(BuildError::Content)?;
    if opts.write {
        write::check_output_dir(&settings.root, &settings.output_dir)?;
    }
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
    let (mut site, d) = resolve::resolve(&settings, &collator, docs, assets);
    diags.extend(d);
    lap("resolve", &mut timings);
    gate(&mut diags)?;

    let hl = markdown::Highlighter::new().map_err(BuildError::other)?;
    let md_opts = markdown::Options {
        smart_punctuation: settings.markdown.smart_punctuation,
        highlight: settings.markdown.highlight,
    };
    let env = links::Env {
        base_url: &settings.base_url,
        opts: md_opts,
        hl: &hl,
        extra: &settings.extra,
        collator: &collator,
    };
    let (bodies, d) = links::render_bodies(&site, &env);
    diags.extend(d);
    lap("markdown", &mut timings);

    let keyword_docs = std::mem::take(&mut site.keyword_docs);
    let (keywords, d) = taxonomy::collect(&settings, &collator, &site, keyword_docs);
    diags.extend(d);
    let mut kw_html = render::KeywordHtml::default();
    if let Some(doc) = &keywords.index_doc {
        let (html, d) = links::render_detached(&site, &env, doc);
        diags.extend(d);
        kw_html.index = html;
        kw_html.index_title = Some(doc.fm.title.clone());
        kw_html.index_description = doc.fm.description.clone();
    }
    for (i, k) in keywords.list.iter().enumerate() {
        if let Some(doc) = &k.description {
            let (html, d) = links::render_detached(&site, &env, doc);
            diags.extend(d);
            kw_html.descriptions.insert(i, html);
        }
    }
    lap("keywords", &mut timings);
    gate(&mut diags)?;
    let Some(tera) = tera else {
        gate(&mut diags)?;
        return Err(BuildError::other("templates failed to load"));
    };

    let (outputs, d) = render::render(
        &settings,
        &tera,
        &translations,
        &site,
        &bodies,
        &keywords,
        &kw_html,
    );
    diags.extend(d);
    lap("render", &mut timings);
    let summaries: Vec<String> = bodies.iter().map(|b| b.summary.clone()).collect();
    let own: Vec<&str> = static_files.iter().map(|s| s.rel.as_str()).collect();
    let mut outputs = publish::publish(&settings, &site, &summaries, &own, outputs);
    if settings.target.search && !diags.has_errors() {
        outputs.extend(search::index(&settings, &site, &bodies)?);
        lap("search", &mut timings);
    }

    // Every output path once; static files and assets may not shadow pages.
    let mut copies: Vec<(PathBuf, String)> =
        static_files.into_iter().map(|s| (s.abs, s.rel)).collect();
    copies.extend(
        site.asset_copies
            .iter()
            .map(|(a, dest)| (a.abs.clone(), dest.clone())),
    );
    let mut seen: HashMap<&str, PathBuf> = HashMap::new();
    for o in &outputs {
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
    for (src, dest) in &copies {
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
    gate(&mut diags)?;

    let pages = site.nodes.iter().filter(|n| !n.is_section()).count();
    let mut report = Report {
        pages,
        sections: site.nodes.len() - pages,
        keywords: keywords.list.len(),
        output_dir: settings.output_dir.clone(),
        warnings: diags.into_sorted(),
        ..Default::default()
    };
    if opts.write {
        report.files_written = write::write(&settings.output_dir, write::Plan { outputs, copies })?;
        lap("write", &mut timings);
    }
    report.timings = timings;
    Ok(report)
}
