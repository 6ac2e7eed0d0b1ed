//! Dev server: build in memory, serve on loopback, watch the sources, rebuild what a change
//! touches, reload open tabs.
//!
//! Takes [`BuildOptions`] and runs until interrupted. The site lives in memory (`Live`); a change
//! to one Markdown file re-renders only the outputs that depend on it (the page, its sections and
//! keyword pages, neighbours, pages it links to); anything else rebuilds everything. A failed
//! rebuild keeps the last good site and shows the errors in the terminal and as an overlay in
//! the browser; a panicking one is caught and reported the same way, and the next change
//! rebuilds in full. Until a first build succeeds, page requests get a page listing the errors,
//! also when `config.toml` cannot be read at start (then the site is served below `/` or the
//! path of `--base-url` until it can). A base path changed in the configuration is served at
//! once. Of the errors a build can find, only usage errors (`--root`, `--target`) keep the
//! server from starting.
//! Only GET and HEAD are answered, and on loopback only requests for a loopback host name
//! (`checks`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod checks;
mod error_page;

use notify::Watcher;

use crate::error::{BuildError, Diagnostic, Severity};
use crate::render::{Job, Output};
use crate::{
    build_site, links, load, parse, publish, resolve, settings_for, taxonomy, BuildOptions, Built,
};

/// URL prefix of the dev server's own endpoints (live reload), outside any base path.
const OWN: &str = "/__wegweiser/";

/// Options of `wegweiser serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub build: BuildOptions,
    pub bind: IpAddr,
    pub port: u16,
    /// Print coloured diagnostics.
    pub color: bool,
}

/// What the server serves, shared between the HTTP threads and the rebuild loop.
struct Live {
    /// Output path (`a/b/index.html`) → bytes.
    files: HashMap<String, Arc<Vec<u8>>>,
    /// Output path → file on disk (static files and bundle assets).
    copies: HashMap<String, PathBuf>,
    /// Bumped on every rebuild, good or bad; browsers wait for it to change.
    version: u64,
    /// Errors of the last rebuild, rendered for the overlay; empty when it succeeded.
    errors: Vec<String>,
    /// Whether a build has succeeded yet; until then HTML requests get the error page.
    good: bool,
    /// The error page's texts (from the theme, read when the first build fails).
    texts: error_page::Texts,
    /// URL path prefix of the site, e.g. `/portal/` (from the base URL of the last good build).
    prefix: String,
    /// The prefix before the configuration changed it: requests below it are sent to the new
    /// one, so that open tabs follow.
    moved_from: Option<String>,
}

impl Live {
    fn new(prefix: String) -> Self {
        Live {
            files: HashMap::new(),
            copies: HashMap::new(),
            version: 0,
            errors: Vec::new(),
            good: false,
            texts: error_page::Texts::fallback(),
            prefix,
            moved_from: None,
        }
    }
}

struct Shared {
    live: Mutex<Live>,
    changed: Condvar,
    /// The site root, canonical: files served from disk must be below it.
    root: PathBuf,
    /// Listening on loopback: answer only requests for a loopback host name.
    loopback_only: bool,
    port: u16,
}

fn lock(shared: &Shared) -> MutexGuard<'_, Live> {
    // A panicking HTTP thread must not take the server down with a poisoned lock.
    shared
        .live
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs the dev server until the process is stopped.
pub fn serve(opts: &ServeOptions) -> Result<(), BuildError> {
    let addr = SocketAddr::new(opts.bind, opts.port);
    let mut build_opts = opts.build.clone();
    // Watch events carry absolute paths; compare them with an absolute root.
    if let Ok(root) = std::fs::canonicalize(&build_opts.root) {
        build_opts.root = root;
    }
    let prefix = start_prefix(&build_opts)?;
    let host = match opts.bind {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let listen_error = |e: &dyn std::fmt::Display| {
        BuildError::Other(vec![
            format!("cannot listen on {addr}"),
            e.to_string(),
            "is another server running on this port? try --port".into(),
        ])
    };
    let listener = std::net::TcpListener::bind(addr).map_err(|e| listen_error(&e))?;
    no_delay(&listener);
    let server = tiny_http::Server::from_listener(listener, None).map_err(|e| listen_error(&e))?;
    let shared = Arc::new(Shared {
        live: Mutex::new(Live::new(prefix)),
        changed: Condvar::new(),
        root: build_opts.root.clone(),
        loopback_only: opts.bind.to_canonical().is_loopback(),
        port: opts.port,
    });

    let origin = format!("http://{host}:{}", opts.port);
    let mut state = Rebuilder::new(build_opts, opts.color, origin);
    // Watch before the first build, so a file saved while it runs is not missed.
    let (mut watcher, events) = SourceWatcher::start(&state.opts.root)?;
    state.full(&shared, None);
    eprintln!(
        "serving on {}{} (Ctrl+C to stop)",
        state.origin,
        lock(&shared).prefix
    );
    if !shared.loopback_only {
        eprintln!(
            "note: listening on {}, reachable from other machines; requests for any host name \
             are answered",
            opts.bind
        );
    }

    let http_shared = Arc::clone(&shared);
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let s = Arc::clone(&http_shared);
            // Out of threads: drop this connection, not the whole server (`spawn` would panic).
            let _ = std::thread::Builder::new().spawn(move || handle(&s, request));
        }
    });
    watch_loop(&mut state, &shared, &mut watcher, &events);
    Ok(())
}

/// The URL path to serve the site below until a build says otherwise: the configured one
/// (links work as they will when published), else, while `config.toml` cannot be read, the
/// path of `--base-url` or `/`; the preview starts anyway and shows why it cannot build.
/// Usage errors (`--root`, `--target`) end the command before it listens, and so does a
/// folder without `config.toml`: that is no site, most likely the wrong folder.
fn start_prefix(opts: &BuildOptions) -> Result<String, BuildError> {
    let config = opts.root.join(crate::config::CONFIG_FILE);
    match settings_for(opts) {
        Ok(settings) => Ok(url_path(&settings.base_url)),
        Err(e @ BuildError::Content(_)) if std::fs::symlink_metadata(config).is_err() => Err(e),
        Err(BuildError::Content(_)) => Ok(opts
            .overrides
            .base_url
            .as_deref()
            .and_then(|url| crate::validate_base_url(url).ok())
            .map_or_else(|| "/".into(), |url| url_path(&url))),
        Err(e) => Err(e),
    }
}

/// Turns off Nagle's algorithm for the connections this listener accepts (Linux copies the
/// option to them): tiny_http writes headers and body separately, and with Nagle the body
/// would wait ~40 ms for the browser's delayed ACK on kept-alive connections.
#[cfg(unix)]
fn no_delay(listener: &std::net::TcpListener) {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: a valid socket fd owned by `listener`, and a pointer to a c_int of the given size.
    unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            std::ptr::addr_of!(one).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(not(unix))]
fn no_delay(_listener: &std::net::TcpListener) {}

fn url_path(base_url: &str) -> String {
    let after_scheme = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].to_string(),
        None => "/".into(),
    }
}

/// Keeps the last good build and applies changes to it.
struct Rebuilder {
    opts: BuildOptions,
    color: bool,
    /// Where the server listens (`http://127.0.0.1:1111`): served pages link there.
    origin: String,
    /// The last good build; `None` before the first one and after a rebuild panicked (it may
    /// have been left half-updated).
    built: Option<Built>,
    /// After a failed rebuild the next one is a full one, so nothing stale survives.
    dirty: bool,
}

impl Rebuilder {
    fn new(opts: BuildOptions, color: bool, origin: String) -> Self {
        Rebuilder {
            opts,
            color,
            origin,
            built: None,
            dirty: false,
        }
    }

    /// Rebuilds everything into a new value; on failure keeps serving the last good site.
    /// `cause`: the changed files that triggered it (`None` for the first build).
    fn full(&mut self, shared: &Shared, cause: Option<&[&PathBuf]>) {
        let started = Instant::now();
        let (opts, origin) = (&self.opts, &self.origin);
        let result = guarded(&self.cause_text(cause), || {
            test_hook::panic_if_changed(cause.unwrap_or_default());
            settings_for(opts).and_then(|mut s| {
                // Served pages need server links, even for a file-share target. (The search
                // index is rebuilt on full builds only, not on incremental ones.) The base
                // URL's path stays, read anew each time, so links work as when published.
                s.target.relative = false;
                s.base_url = format!("{origin}{}", url_path(&s.base_url));
                build_site(s, opts.progress, true, None)
            })
        });
        match result {
            Ok(built) => self.install(shared, built, started),
            Err(e) => self.failed(shared, e),
        }
    }

    /// Serves a successful full build: the new files replace the old ones in one step.
    fn install(&mut self, shared: &Shared, built: Built, started: Instant) {
        let files: HashMap<String, Arc<Vec<u8>>> = built
            .outputs
            .iter()
            .map(|o| (o.rel.clone(), Arc::new(o.bytes.clone())))
            .collect();
        let copies: HashMap<String, PathBuf> = built
            .copies
            .iter()
            .map(|(src, dest)| (dest.clone(), src.clone()))
            .collect();
        let prefix = url_path(&built.settings.base_url);
        // Only this thread changes the prefix. Said before it is served, so that whoever
        // sees the new path served can read where it is.
        let moved = lock(shared).prefix != prefix;
        if moved {
            eprintln!(
                "the base URL's path changed: now serving on {}{prefix}",
                self.origin
            );
        }
        let mut live = lock(shared);
        live.files = files;
        live.copies = copies;
        live.errors.clear();
        if moved {
            live.moved_from = Some(std::mem::replace(&mut live.prefix, prefix));
        }
        live.good = true;
        live.version += 1;
        drop(live);
        shared.changed.notify_all();
        self.print(&built.warnings);
        eprintln!(
            "built {} files in {} ms",
            built.outputs.len() + built.copies.len(),
            started.elapsed().as_millis()
        );
        self.built = Some(built);
        self.dirty = false;
    }

    /// What a rebuild was for, in an internal-error message.
    fn cause_text(&self, cause: Option<&[&PathBuf]>) -> String {
        let Some(files) = cause else {
            return "building the site".into();
        };
        let shown: Vec<String> = files
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(&self.opts.root).unwrap_or(p);
                rel.to_string_lossy().replace('\\', "/")
            })
            .collect();
        format!("rebuilding after a change to {}", shown.join(", "))
    }

    fn failed(&mut self, shared: &Shared, e: BuildError) {
        let lines: Vec<String> = match e {
            BuildError::Content(diags) => {
                self.print(&diags);
                diags
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .map(|d| d.render(false))
                    .collect()
            }
            BuildError::Other(chain) => {
                eprint!("{}", crate::error::render_chain(&chain));
                vec![chain.join(": ")]
            }
            // A `--target` that the fixed config does not declare, say.
            BuildError::Usage(msg, hint) => {
                let text = match hint {
                    Some(h) => format!("error: {msg}\n  = hint: {h}"),
                    None => format!("error: {msg}"),
                };
                let text = crate::error::escape_controls(&text);
                eprintln!("{text}");
                vec![text]
            }
        };
        let good = lock(shared).good;
        // Before the first good build the error page needs the theme's words for it.
        let texts = (!good).then(|| error_page::Texts::for_site(&self.opts));
        if good {
            eprintln!("rebuild failed; still serving the last good version");
        } else {
            eprintln!("build failed; serving the errors until it succeeds");
        }
        let mut live = lock(shared);
        live.errors = lines;
        if let Some(texts) = texts {
            live.texts = texts;
        }
        live.version += 1;
        drop(live);
        shared.changed.notify_all();
        self.dirty = true;
    }

    fn print(&self, diags: &[Diagnostic]) {
        for d in diags {
            eprint!("{}", d.render(self.color));
        }
    }

    /// Applies changed files: one edited Markdown file incrementally, anything else in full.
    fn apply(&mut self, shared: &Shared, changed: &BTreeSet<PathBuf>) {
        let started = Instant::now();
        let content = self.opts.root.join("content");
        // Editors' and tools' temporary files are gone by now; a vanished .md file was deleted.
        let changed: Vec<&PathBuf> = changed
            .iter()
            .filter(|p| p.exists() || p.extension().is_some_and(|e| e == "md"))
            .collect();
        if changed.is_empty() {
            return;
        }
        let single_md = (changed.len() == 1)
            .then(|| changed.first())
            .flatten()
            // A link is checked by a full load (it must not lead out of the site).
            .filter(|p| p.extension().is_some_and(|e| e == "md") && p.is_file() && !p.is_symlink())
            .and_then(|p| p.strip_prefix(&content).ok())
            .map(|rel| rel.to_string_lossy().replace('\\', "/"));
        let cause = self.cause_text(Some(&changed));
        let (Some(rel), false, Some(built)) = (single_md, self.dirty, self.built.as_mut()) else {
            return self.full(shared, Some(&changed));
        };
        let update = guarded(&cause, || Ok(update_page(built, &rel)));
        match update {
            Ok(Update::Full) => self.full(shared, Some(&changed)),
            Ok(Update::Failed(diags)) => self.failed(shared, BuildError::Content(diags)),
            Ok(Update::Done { outputs, removed }) => {
                let n = outputs.len();
                publish_update(shared, outputs, removed);
                eprintln!(
                    "updated content/{rel}: {n} files in {:.1} ms",
                    started.elapsed().as_secs_f64() * 1000.0
                );
            }
            Err(e) => {
                // The panic may have left the build half-updated: never use it again.
                self.built = None;
                self.failed(shared, e);
            }
        }
    }
}

/// Serves the outputs of an incremental update in place of the old ones, in one step.
fn publish_update(shared: &Shared, outputs: Vec<Output>, removed: Vec<String>) {
    let mut live = lock(shared);
    for o in outputs {
        live.files.insert(o.rel, Arc::new(o.bytes));
    }
    for r in &removed {
        live.files.remove(r);
    }
    live.errors.clear();
    live.version += 1;
    drop(live);
    shared.changed.notify_all();
}

/// Runs one rebuild step and turns a panic in it into an error, so a bug in the engine shows
/// in the terminal and the overlay instead of ending the server. `cause` says what the step
/// was doing ("rebuilding after a change to content/a.md").
fn guarded<T>(cause: &str, step: impl FnOnce() -> Result<T, BuildError>) -> Result<T, BuildError> {
    // The caller drops or replaces whatever the step may have left half-done.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)) {
        Ok(result) => result,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            Err(BuildError::Other(vec![
                format!("internal error while {cause}; please report it"),
                format!("panic: {msg}"),
            ]))
        }
    }
}

/// Fault injection for the tests: with `WEGWEISER_TEST_PANIC_ON=<file name>` in the
/// environment, a rebuild after a change to a file of that name panics (a full rebuild before it
/// starts, an incremental one after it changed the in-memory site), so the tests can check that
/// the server survives a bug in the engine. It is in release builds too: the tests run the
/// release binary (`cargo test --release` shares the release build's compiled crates), and
/// reading one variable per rebuild costs nothing.
mod test_hook {
    use std::path::PathBuf;

    pub(super) fn panic_if_changed(changed: &[&PathBuf]) {
        if let Some(name) = std::env::var_os("WEGWEISER_TEST_PANIC_ON") {
            if changed
                .iter()
                .any(|p| p.file_name() == Some(name.as_os_str()))
            {
                panic!(
                    "test hook WEGWEISER_TEST_PANIC_ON={}",
                    name.to_string_lossy()
                );
            }
        }
    }

    /// The same for the file (below `content/`) an incremental update is working on.
    pub(super) fn panic_if_updating(rel: &str) {
        panic_if_changed(&[&PathBuf::from(rel)]);
    }
}

enum Update {
    /// Rendered again, to replace in the served files; and outputs that no longer exist.
    Done {
        outputs: Vec<Output>,
        removed: Vec<String>,
    },
    /// The change reaches too far for an incremental update.
    Full,
    Failed(Vec<Diagnostic>),
}

/// Re-parses one Markdown file and re-renders what depends on it.
fn update_page(b: &mut Built, rel: &str) -> Update {
    let shown = Path::new("content").join(rel);
    let abs = b.settings.root.join(&shown);
    let mut diags = Vec::new();
    let Some(text) = load::read_text(&abs, &shown, &mut diags) else {
        return Update::Failed(diags);
    };
    let file = load::SourceFile {
        rel: rel.to_string(),
        shown,
        text,
    };
    let Some(doc_index) = b.docs.iter().position(|d| d.src.rel == rel) else {
        return Update::Full;
    };
    // Keyword descriptions and the keyword index text belong to the keyword pages.
    if rel.starts_with(&format!("{}/", b.settings.keywords.path)) {
        return Update::Full;
    }
    let (mut parsed, d) = parse::parse_with(&b.settings, vec![file], &b.docs);
    if !d.is_empty() {
        return Update::Failed(d);
    }
    let Some(new_doc) = parsed.pop() else {
        return Update::Full;
    };
    let old_doc = &b.docs[doc_index];
    let structural = old_doc.fm != new_doc.fm;
    if old_doc.kind == parse::Kind::Section && structural {
        // Sections shape menus, types and listings everywhere.
        return Update::Full;
    }
    let Some(&id) = b.site.by_rel.get(rel) else {
        // Not published in this target (draft, intern, keyword description): rebuild if
        // that could change, else nothing to render.
        return if structural {
            Update::Full
        } else {
            b.docs[doc_index] = new_doc;
            Update::Done {
                outputs: Vec::new(),
                removed: Vec::new(),
            }
        };
    };
    let old_fm = b.site.nodes[id].doc.fm.clone();
    let old_keywords: BTreeSet<String> = b.keywords.by_node[id]
        .iter()
        .map(|&k| b.keywords.list[k].slug.clone())
        .collect();
    let old_neighbours = [b.site.nodes[id].prev, b.site.nodes[id].next];
    b.docs[doc_index] = new_doc.clone();
    test_hook::panic_if_updating(rel);

    let light = structural && only_light_changes(&old_fm, &new_doc.fm);
    if light {
        // Title, dates, weight, description, fields or keywords: re-sort the section and
        // re-collect the keywords, without resolving the whole site again.
        // Compare the words only: their byte offsets move whenever a line above them changes.
        let keywords_changed = !values(&old_fm.suchworte).eq(values(&new_doc.fm.suchworte));
        let node = &mut b.site.nodes[id];
        node.title_key = b.collator.sort_key(&new_doc.fm.title);
        node.doc = new_doc;
        if let Some(p) = b.site.nodes[id].parent {
            let mut pages = std::mem::take(&mut b.site.nodes[p].pages);
            let by = b.site.nodes[p].doc.fm.sort_by;
            resolve::sort_pages(&b.site.nodes, &mut pages, by);
            for (i, &q) in pages.iter().enumerate() {
                b.site.nodes[q].prev = i.checked_sub(1).map(|j| pages[j]);
                b.site.nodes[q].next = pages.get(i + 1).copied();
            }
            b.site.nodes[p].pages = pages;
        }
        if old_fm.title != b.site.nodes[id].doc.fm.title {
            // Lists sorted by title that contain this page: its keywords' pages, and the
            // backlinks of the pages it links to.
            for &k in &b.keywords.by_node[id] {
                resolve::sort_by_title(&b.site.nodes, &mut b.keywords.list[k].pages);
            }
            let targets: BTreeSet<usize> = b.bodies[id].links.iter().map(|(_, t)| t.page).collect();
            for t in targets {
                let mut list = std::mem::take(&mut b.bodies[t].backlinks);
                resolve::sort_by_title(&b.site.nodes, &mut list);
                b.bodies[t].backlinks = list;
            }
        }
        if keywords_changed {
            let kw_prefix = format!("{}/", b.settings.keywords.path);
            let keyword_docs: Vec<parse::Document> = b
                .docs
                .iter()
                .filter(|d| d.src.rel.starts_with(&kw_prefix))
                .filter(|d| !d.fm.draft || b.settings.drafts)
                .filter(|d| !d.fm.intern || b.settings.target.include_intern)
                .cloned()
                .collect();
            let (keywords, d) =
                taxonomy::collect(&b.settings, &b.collator, &b.site, keyword_docs, false);
            if d.iter().any(|x| x.severity == Severity::Error) {
                return Update::Failed(d);
            }
            b.keywords = keywords;
        }
    } else if structural {
        let (mut site, d) =
            resolve::resolve(&b.settings, &b.collator, b.docs.clone(), b.assets.clone());
        if d.iter().any(|x| x.severity == Severity::Error) {
            return Update::Failed(d);
        }
        // Node ids follow source paths; if they moved, or this page's URL did, links elsewhere
        // change too.
        let same_ids = site.nodes.len() == b.site.nodes.len()
            && site
                .nodes
                .iter()
                .zip(&b.site.nodes)
                .all(|(x, y)| x.doc.src.rel == y.doc.src.rel && x.path == y.path);
        if !same_ids {
            return Update::Full;
        }
        let keyword_docs = std::mem::take(&mut site.keyword_docs);
        let (keywords, d) = taxonomy::collect(&b.settings, &b.collator, &site, keyword_docs, false);
        if d.iter().any(|x| x.severity == Severity::Error) {
            return Update::Failed(d);
        }
        b.site = site;
        b.keywords = keywords;
    } else {
        b.site.nodes[id].doc = new_doc;
    }

    let env = b.link_env();
    let (body, d) = links::render_one(&b.site, &env, id);
    if d.iter().any(|x| x.severity == Severity::Error) {
        return Update::Failed(d);
    }
    let old_targets: BTreeSet<usize> = b.bodies[id].links.iter().map(|(_, t)| t.page).collect();
    let new_targets: BTreeSet<usize> = body.links.iter().map(|(_, t)| t.page).collect();
    let summary_changed = body.summary != b.bodies[id].summary;
    let backlinks = std::mem::take(&mut b.bodies[id].backlinks);
    b.bodies[id] = links::Body { backlinks, ..body };
    // Backlink lists of the pages this one stopped or started linking to.
    for &t in old_targets.symmetric_difference(&new_targets) {
        if t == id {
            continue;
        }
        let list = &mut b.bodies[t].backlinks;
        list.retain(|&x| x != id);
        if new_targets.contains(&t) {
            list.push(id);
        }
        resolve::sort_by_title(&b.site.nodes, list);
    }
    // This page's anchors may have changed under links pointing at it.
    let mut sources = vec![id];
    sources.extend(b.bodies[id].backlinks.iter().copied());
    let d = links::check_anchors(&b.site, &b.bodies, &sources);
    if !d.is_empty() {
        return Update::Failed(d);
    }

    // What shows this page: itself always; listings and keyword pages if what they show of it
    // changed; neighbours and linked pages if its title did.
    let mut nodes: HashSet<usize> = HashSet::from([id]);
    let mut keyword_slugs: BTreeSet<String> = BTreeSet::new();
    let mut keyword_index = false;
    let title_changed = old_fm.title != b.site.nodes[id].doc.fm.title;
    if structural || summary_changed {
        nodes.extend(resolve::ancestors(&b.site.nodes, id));
        keyword_slugs.extend(old_keywords.iter().cloned());
        keyword_slugs.extend(
            b.keywords.by_node[id]
                .iter()
                .map(|&k| b.keywords.list[k].slug.clone()),
        );
    }
    if structural {
        let new_neighbours = [b.site.nodes[id].prev, b.site.nodes[id].next];
        nodes.extend(old_neighbours.into_iter().chain(new_neighbours).flatten());
        nodes.extend(new_targets.iter().copied());
        nodes.extend(old_targets.iter().copied());
        if old_keywords != keyword_slugs_of(b, id) {
            keyword_index = true;
            // Counts and co-occurrences of related keywords change as well.
            for &k in &b.keywords.by_node[id] {
                for &(r, _) in &b.keywords.list[k].related {
                    keyword_slugs.insert(b.keywords.list[r].slug.clone());
                }
            }
        }
    } else if title_changed {
        nodes.extend(new_targets.iter().copied());
    }
    // Pages this one started or stopped linking to list it among their backlinks.
    nodes.extend(old_targets.symmetric_difference(&new_targets).copied());
    let keyword_ids: HashSet<usize> = b
        .keywords
        .list
        .iter()
        .enumerate()
        .filter(|(_, k)| keyword_slugs.contains(&k.slug))
        .map(|(i, _)| i)
        .collect();
    // Only this page's summary changed, unless the site was resolved or keywords collected anew.
    {
        let mut cache = b
            .summaries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if (structural && !light) || old_keywords != keyword_slugs_of(b, id) {
            cache.clear();
        } else if let Some(v) = cache.get_mut(id) {
            *v = serde_json::Value::Null;
        }
    }
    let select = |job: &Job| match *job {
        Job::Node(n) | Job::SectionPage(n, _) | Job::Extra(n, _) => nodes.contains(&n),
        Job::Keyword(k) => keyword_ids.contains(&k),
        Job::KeywordIndex => keyword_index,
        Job::Special(..) => false,
    };
    let (mut outputs, d) = crate::render::render(
        &crate::render::Inputs {
            settings: &b.settings,
            templates: &b.templates,
            translations: &b.translations,
            site: &b.site,
            bodies: &b.bodies,
            keywords: &b.keywords,
            keyword_html: &b.kw_html,
            progress: &indicatif::ProgressBar::hidden(),
            summary_cache: Some(&b.summaries),
            emit: None,
        },
        &select,
    );
    if !d.is_empty() {
        return Update::Failed(d);
    }
    let mut removed = Vec::new();
    if structural {
        let summaries: Vec<String> = b.bodies.iter().map(|x| x.summary.clone()).collect();
        let own: Vec<&str> = b.copies.iter().map(|(_, dest)| dest.as_str()).collect();
        outputs = publish::publish(&b.settings, &b.site, &summaries, &own, outputs);
        let now = keyword_slugs_of_all(b);
        for slug in old_keywords {
            if !now.contains(&slug) {
                removed.push(format!("{}/{slug}/index.html", b.settings.keywords.path));
            }
        }
    }
    Update::Done { outputs, removed }
}

/// Whether only front matter changed that needs no new resolve: everything that decides URLs,
/// types, templates or visibility is the same.
fn only_light_changes(old: &parse::FrontMatter, new: &parse::FrontMatter) -> bool {
    let value = |a: &Option<parse::At<String>>| a.as_ref().map(|a| a.value.clone());
    value(&old.slug) == value(&new.slug)
        && value(&old.template) == value(&new.template)
        && old.doc_type == new.doc_type
        && old.draft == new.draft
        && old.intern == new.intern
        && old.sort_by == new.sort_by
        && old.paginate_by == new.paginate_by
        && old.page_type == new.page_type
        && values(&old.outputs).eq(values(&new.outputs))
}

/// The strings of located values, without their positions.
fn values(list: &[parse::At<String>]) -> impl Iterator<Item = &str> {
    list.iter().map(|a| a.value.as_str())
}

fn keyword_slugs_of(b: &Built, id: usize) -> BTreeSet<String> {
    b.keywords.by_node[id]
        .iter()
        .map(|&k| b.keywords.list[k].slug.clone())
        .collect()
}

fn keyword_slugs_of_all(b: &Built) -> HashSet<String> {
    b.keywords.list.iter().map(|k| k.slug.clone()).collect()
}

/// Paths changed in the site, as the watcher reports them.
type Events = std::sync::mpsc::Receiver<Vec<PathBuf>>;

/// The folders of the site root whose files are sources.
const SOURCE_DIRS: [&str; 4] = ["content", "themes", "templates", "static"];

/// Watches the site's sources: the source folders that exist, recursively, and the root itself
/// (for `config.toml`, also when an editor replaces it, and for source folders created later).
struct SourceWatcher {
    root: PathBuf,
    watcher: notify::RecommendedWatcher,
}

impl SourceWatcher {
    /// Starts watching; events arrive on the returned channel while this value lives.
    fn start(root: &Path) -> Result<(SourceWatcher, Events), BuildError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let handler = move |res: notify::Result<notify::Event>| {
            if let Ok(ev) = res {
                if !matches!(ev.kind, notify::EventKind::Access(_)) {
                    let _ = tx.send(ev.paths);
                }
            }
        };
        // Not through symbolic links: an editor's link to a big folder elsewhere (`/usr`)
        // would make the watcher walk and watch all of it before the preview starts, and
        // nothing outside the site belongs to it.
        let config = notify::Config::default().with_follow_symlinks(false);
        let watcher = notify::RecommendedWatcher::new(handler, config).map_err(|e| {
            BuildError::Other(vec![
                "cannot watch the site for changes".into(),
                e.to_string(),
            ])
        })?;
        let mut w = SourceWatcher {
            root: root.to_path_buf(),
            watcher,
        };
        w.add(root, notify::RecursiveMode::NonRecursive)?;
        for dir in SOURCE_DIRS {
            let p = root.join(dir);
            if p.is_dir() {
                w.add(&p, notify::RecursiveMode::Recursive)?;
            }
        }
        Ok((w, rx))
    }

    fn add(&mut self, p: &Path, mode: notify::RecursiveMode) -> Result<(), BuildError> {
        self.watcher.watch(p, mode).map_err(|e| {
            BuildError::Other(vec![format!("cannot watch {}", p.display()), e.to_string()])
        })
    }

    /// Whether a changed path is a source: anything below a source folder, and of the root's
    /// own entries only `config.toml` and the source folders (not `public/`, say).
    fn is_source(&self, p: &Path) -> bool {
        match p.strip_prefix(&self.root) {
            Ok(rel) if rel.components().count() == 1 => {
                let name = rel.to_string_lossy();
                name == crate::config::CONFIG_FILE || SOURCE_DIRS.contains(&name.as_ref())
            }
            _ => true,
        }
    }

    /// Starts watching source folders that were created (or created again) since.
    fn follow_new_folders(&mut self, changed: &BTreeSet<PathBuf>) {
        for dir in SOURCE_DIRS {
            let p = self.root.join(dir);
            if !changed.contains(&p) {
                continue;
            }
            // A folder removed and created again needs a new watch.
            let _ = self.watcher.unwatch(&p);
            if p.is_dir() {
                if let Err(BuildError::Other(chain)) =
                    self.add(&p, notify::RecursiveMode::Recursive)
                {
                    eprint!("{}", crate::error::render_chain(&chain));
                }
            }
        }
    }
}

/// Applies changes as they come, until the watcher goes away.
fn watch_loop(state: &mut Rebuilder, shared: &Shared, watcher: &mut SourceWatcher, rx: &Events) {
    let ignored = |p: &Path| {
        p.file_name().is_some_and(|n| {
            let n = n.to_string_lossy();
            n.starts_with('.') || n.ends_with('~') || n.ends_with(".swp") || n.starts_with('#')
        })
    };
    loop {
        let Ok(first) = rx.recv() else {
            return;
        };
        // Editors save in bursts (temp file, rename, chmod): collect them briefly.
        let mut changed: BTreeSet<PathBuf> = first.into_iter().collect();
        let deadline = Instant::now() + Duration::from_millis(10);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(paths) => changed.extend(paths),
                Err(_) => break,
            }
        }
        changed.retain(|p| !ignored(p) && watcher.is_source(p));
        // Before the rebuild, so that it reads what a new folder holds and the watch sees
        // everything written after.
        watcher.follow_new_folders(&changed);
        if !changed.is_empty() {
            let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                state.apply(shared, &changed);
            }));
            if applied.is_err() {
                // A bug outside the guarded rebuild (the hook has printed it): the next change
                // starts from scratch.
                state.built = None;
                state.dirty = true;
            }
        }
    }
}

/// Answers one HTTP request from the in-memory site.
fn handle(shared: &Shared, request: tiny_http::Request) {
    let (prefix, moved_from) = {
        let live = lock(shared);
        (live.prefix.clone(), live.moved_from.clone())
    };
    let site = format!("{}{prefix}", shared.port);
    if let Some(refusal) = checks::refuse(&request, shared.loopback_only, &site) {
        let mut response = text_response(refusal.status, &refusal.text);
        if refusal.status == 405 {
            if let Some(h) = header("Allow", checks::ALLOWED_METHODS) {
                response.add_header(h);
            }
        }
        let _ = request.respond(response);
        return;
    }
    let url = request.url().to_string();
    let path = url.split(['?', '#']).next().unwrap_or("/").to_string();
    if let Some(own) = path.strip_prefix(OWN) {
        return own_endpoint(shared, request, own, &url);
    }
    let response = match resolve_path(&prefix, &path) {
        Err(status) => text_response(status, "Bad request"),
        Ok(None) => {
            // Outside the site's base path: point to it.
            if path == "/" {
                redirect(&prefix)
            } else if let Some(to) = moved(moved_from.as_deref(), &prefix, &path) {
                redirect(&to)
            } else {
                first_build_failed(shared, &path).unwrap_or_else(|| not_found(shared))
            }
        }
        Ok(Some(rel)) if rel.is_empty() => redirect(&prefix),
        Ok(Some(rel)) => serve_file(shared, &rel, &path),
    };
    let _ = request.respond(response);
}

/// Where a path below the site's former base path is now (`/alt/a/` → `/neu/a/`), so that a
/// tab open when the configuration changed the path follows it.
fn moved(from: Option<&str>, prefix: &str, path: &str) -> Option<String> {
    let from = from?;
    let rest = path.strip_prefix(from)?;
    // A path already below the new prefix is sent on only if that makes it shorter (from
    // `/portal/` to `/`), so redirects cannot chain (from `/a/` to `/a/a/`).
    if path.starts_with(prefix) && from.len() <= prefix.len() {
        return None;
    }
    Some(format!("{prefix}{rest}"))
}

/// A path the site does not have: where it is now if it is below the former base path, else
/// the site's 404 page.
fn missing(shared: &Shared, path: &str) -> Resp {
    let to = {
        let live = lock(shared);
        moved(live.moved_from.as_deref(), &live.prefix, path)
    };
    match to {
        Some(to) => redirect(&to),
        None => not_found(shared),
    }
}

type Resp = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

/// Maps a URL path to an output path; `Err` for paths that try to leave the site.
fn resolve_path(prefix: &str, path: &str) -> Result<Option<String>, u16> {
    let decoded = checks::percent_decode(path).ok_or(400u16)?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return Err(400);
    }
    if decoded.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(400);
    }
    let Some(rest) = decoded.strip_prefix(prefix) else {
        return Ok(if decoded == prefix.trim_end_matches('/') {
            Some(String::new())
        } else {
            None
        });
    };
    let mut rel = rest.to_string();
    if rel.is_empty() || rel.ends_with('/') {
        rel.push_str("index.html");
    }
    Ok(Some(rel))
}

fn content_type(rel: &str) -> &'static str {
    match rel.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn header(name: &str, value: &str) -> Option<tiny_http::Header> {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn with_headers(mut r: Resp, rel: &str) -> Resp {
    for h in [
        header("Content-Type", content_type(rel)),
        header("Cache-Control", "no-store"),
        header("X-Content-Type-Options", "nosniff"),
    ]
    .into_iter()
    .flatten()
    {
        r.add_header(h);
    }
    r
}

fn text_response(status: u16, text: &str) -> Resp {
    with_headers(
        tiny_http::Response::from_data(text.as_bytes().to_vec()).with_status_code(status),
        "x.txt",
    )
}

fn redirect(to: &str) -> Resp {
    let mut r = tiny_http::Response::from_data(Vec::new()).with_status_code(302);
    if let Some(h) = header("Location", to) {
        r.add_header(h);
    }
    r
}

/// Whether a request for this output path is for a page (a browser shows the error page).
fn wants_html(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    rel.ends_with(".html") || !name.contains('.')
}

/// The error page, for a request for a page while no build has succeeded yet.
fn first_build_failed(shared: &Shared, rel: &str) -> Option<Resp> {
    let live = lock(shared);
    if live.good || !wants_html(rel) {
        return None;
    }
    let tag = live_tag(live.version, &live.errors, true);
    let page = error_page::render(&live.texts, &live.errors, &tag);
    drop(live);
    Some(with_headers(
        tiny_http::Response::from_data(page.into_bytes()).with_status_code(500),
        "error.html",
    ))
}

fn serve_file(shared: &Shared, rel: &str, path: &str) -> Resp {
    if let Some(page) = first_build_failed(shared, rel) {
        return page;
    }
    let live = lock(shared);
    let (version, errors) = (live.version, live.errors.clone());
    if let Some(bytes) = live.files.get(rel).cloned() {
        drop(live);
        let body = if rel.ends_with(".html") {
            inject(&bytes, version, &errors)
        } else {
            bytes.to_vec()
        };
        return with_headers(tiny_http::Response::from_data(body), rel);
    }
    if let Some(src) = live.copies.get(rel).cloned() {
        drop(live);
        return match read_inside(&shared.root, &src) {
            Some(bytes) => sandboxed(
                with_headers(tiny_http::Response::from_data(bytes), rel),
                &shared.root,
                &src,
                rel,
            ),
            None => not_found(shared),
        };
    }
    // `/a/b` for a folder page: send the browser to `/a/b/` so relative URLs work.
    let folder = format!("{rel}/index.html");
    if !path.ends_with('/') && live.files.contains_key(&folder) {
        return redirect(&format!("{path}/"));
    }
    drop(live);
    missing(shared, path)
}

/// An editor's bundle asset that a browser would run as a document (HTML, SVG, XML) is read
/// from disk as it is now, not as the last build checked it: it gets no script, no forms and
/// its own origin (`Content-Security-Policy: sandbox`), so it cannot act on the preview's.
fn sandboxed(mut r: Resp, root: &Path, src: &Path, rel: &str) -> Resp {
    let active = ["html", "htm", "xhtml", "svg", "svgz", "xml", "xsl"];
    let ext = rel
        .rsplit_once('.')
        .map_or("", |(_, e)| e)
        .to_ascii_lowercase();
    if src.starts_with(root.join("content")) && active.contains(&ext.as_str()) {
        if let Some(h) = header("Content-Security-Policy", "sandbox") {
            r.add_header(h);
        }
    }
    r
}

/// A static file or bundle asset, read when it is asked for: only if it is still a regular
/// file inside the site. (It may have been replaced by a link to a file elsewhere since the
/// last good build, and a rebuild that refuses the link keeps serving the old list.)
fn read_inside(root: &Path, src: &Path) -> Option<Vec<u8>> {
    let real = std::fs::canonicalize(src).ok()?;
    if !real.starts_with(root) {
        eprintln!(
            "warning: not serving {}: it now leads outside the site, to {}",
            src.strip_prefix(root).unwrap_or(src).display(),
            real.display()
        );
        return None;
    }
    // Only a regular file: a named pipe swapped in would block this thread.
    load::read_regular(&real).ok()
}

fn not_found(shared: &Shared) -> Resp {
    let live = lock(shared);
    match live.files.get("404.html").cloned() {
        Some(bytes) => {
            let body = inject(&bytes, live.version, &live.errors);
            with_headers(
                tiny_http::Response::from_data(body).with_status_code(404),
                "404.html",
            )
        }
        None => {
            drop(live);
            text_response(404, "Not found")
        }
    }
}

/// The live-reload script tag with the overlay's data; `error_page`: on the page shown while
/// no build has succeeded (no overlay there, it reloads on every change).
fn live_tag(version: u64, errors: &[String], error_page: bool) -> String {
    let errors = serde_json::to_string(errors).unwrap_or_else(|_| "[]".into());
    format!(
        "<script src=\"{OWN}live.js\" data-version=\"{version}\" data-errors=\"{}\"{}></script>",
        error_page::escape(&errors),
        if error_page {
            " data-page=\"errors\""
        } else {
            ""
        }
    )
}

/// Adds the live-reload script (and the error overlay's data) before `</body>`.
fn inject(html: &[u8], version: u64, errors: &[String]) -> Vec<u8> {
    let tag = live_tag(version, errors, false);
    let text = String::from_utf8_lossy(html);
    match text.rfind("</body>") {
        Some(i) => format!("{}{tag}{}", &text[..i], &text[i..]).into_bytes(),
        None => format!("{text}{tag}").into_bytes(),
    }
}

const LIVE_JS: &str = include_str!("serve/live.js");

fn own_endpoint(shared: &Shared, request: tiny_http::Request, what: &str, url: &str) {
    let response = match what {
        "live.js" => with_headers(
            tiny_http::Response::from_data(LIVE_JS.as_bytes().to_vec()),
            "live.js",
        ),
        // Long poll: answers when the version differs from the client's, or after 25 s.
        "poll" => {
            let seen: u64 = url
                .split_once("v=")
                .and_then(|(_, v)| v.split('&').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let live = lock(shared);
            let (live, _) = shared
                .changed
                .wait_timeout_while(live, Duration::from_secs(25), |l| l.version == seen)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let body = serde_json::json!({ "version": live.version, "errors": live.errors });
            with_headers(
                tiny_http::Response::from_data(body.to_string().into_bytes()),
                "x.json",
            )
        }
        _ => text_response(404, "Not found"),
    };
    let _ = request.respond(response);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_site() {
        assert_eq!(resolve_path("/", "/"), Ok(Some("index.html".into())));
        assert_eq!(
            resolve_path("/", "/a/b/"),
            Ok(Some("a/b/index.html".into()))
        );
        assert_eq!(
            resolve_path("/portal/", "/portal/x.css"),
            Ok(Some("x.css".into()))
        );
        assert_eq!(resolve_path("/portal/", "/portal"), Ok(Some(String::new())));
        assert_eq!(resolve_path("/portal/", "/other/"), Ok(None));
        assert_eq!(resolve_path("/", "/../etc/passwd"), Err(400));
        assert_eq!(resolve_path("/", "/%2e%2e/etc/passwd"), Err(400));
        assert_eq!(resolve_path("/", "/a/%2E%2E/%2E%2E/x"), Err(400));
        assert_eq!(resolve_path("/", "/a%5c..%5cx"), Err(400));
        assert_eq!(resolve_path("/", "/%zz"), Err(400));
    }

    #[test]
    fn paths_below_a_former_base_path_are_sent_to_the_new_one_once() {
        let to = |from, prefix, path| moved(Some(from), prefix, path);
        assert_eq!(to("/", "/portal/", "/a/b/"), Some("/portal/a/b/".into()));
        assert_eq!(to("/alt/", "/neu/", "/alt/a/"), Some("/neu/a/".into()));
        assert_eq!(to("/portal/", "/", "/portal/a/"), Some("/a/".into()));
        assert_eq!(to("/alt/", "/neu/", "/anders/"), None);
        assert_eq!(moved(None, "/neu/", "/alt/a/"), None);
        // Below the new prefix already: no redirect that could repeat itself.
        assert_eq!(to("/", "/portal/", "/portal/a/"), None);
        assert_eq!(to("/a/", "/a/a/", "/a/a/x"), None);
        assert_eq!(to("/a/", "/a/a/", "/a/x"), Some("/a/a/x".into()));
    }

    #[test]
    fn live_script_goes_before_body_end() {
        let out = inject(b"<html><body>x</body></html>", 3, &[]);
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("data-version=\"3\""));
        assert!(out.ends_with("</script></body></html>"));
    }
}
