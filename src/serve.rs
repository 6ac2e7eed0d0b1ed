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

use crate::hash::HashMap;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod checks;
mod error_page;

use notify::Watcher;

use crate::error::{BuildError, Diagnostic, Severity};
use crate::pipeline::{self, Memo, Run};
use crate::{settings_for, BuildOptions};

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
    /// Print the time each stage took, after every rebuild.
    pub timings: bool,
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
            files: HashMap::default(),
            copies: HashMap::default(),
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
    let mut state = Rebuilder::new(build_opts, opts.color, opts.timings, origin);
    // Watch before the first build, so a file saved while it runs is not missed.
    let (mut watcher, events) = SourceWatcher::start(&state.opts.root)?;
    state.rebuild(&shared, None);
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
/// would wait ~40 ms for the browser's delayed ACK on kept-alive connections. Best effort: a
/// platform that refuses it only serves more slowly.
fn no_delay(listener: &std::net::TcpListener) {
    let _ = socket2::SockRef::from(listener).set_tcp_nodelay(true);
}

fn url_path(base_url: &str) -> String {
    let after_scheme = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].to_string(),
        None => "/".into(),
    }
}

/// The settings of the preview: served pages need server links, even for a file-share
/// target. The base URL's path stays, read anew each time, so links work as published.
pub(crate) fn preview_settings(
    opts: &BuildOptions,
    origin: &str,
) -> Result<crate::config::Settings, BuildError> {
    let mut s = settings_for(opts)?;
    s.target.relative = false;
    s.base_url = format!("{origin}{}", url_path(&s.base_url));
    Ok(s)
}

/// Runs the pipeline for every change and serves the result.
struct Rebuilder {
    opts: BuildOptions,
    color: bool,
    timings: bool,
    /// Where the server listens (`http://127.0.0.1:1111`): served pages link there.
    origin: String,
    /// What the last run kept for the next; emptied when a rebuild panicked (it may have been
    /// left half-updated), so the next run starts from the files.
    memo: Memo,
    /// The files last served, in the run's order. The next run's files are compared with
    /// them one by one (an unchanged output shares its bytes), so that an edit touches only
    /// the entries of the served map that changed.
    served: Vec<(Arc<str>, Arc<Vec<u8>>)>,
}

impl Rebuilder {
    fn new(opts: BuildOptions, color: bool, timings: bool, origin: String) -> Self {
        Rebuilder {
            opts,
            color,
            timings,
            origin,
            memo: Memo::keeping(),
            served: Vec::new(),
        }
    }

    fn settings(&self) -> Result<crate::config::Settings, BuildError> {
        preview_settings(&self.opts, &self.origin)
    }

    /// Runs the pipeline (with the memo of the last run) and serves its result; on failure
    /// keeps serving the last good site. `cause`: the changed files (`None`: the first run).
    fn rebuild(&mut self, shared: &Shared, cause: Option<&[&PathBuf]>) {
        let started = Instant::now();
        let changed: Option<Vec<PathBuf>> = cause.map(|c| c.iter().map(|p| (*p).clone()).collect());
        let result = guarded(&self.cause_text(cause), || {
            test_hook::panic_if_changed(cause.unwrap_or_default(), "before");
            let settings = self.settings()?;
            let run = pipeline::run(
                &settings,
                &mut self.memo,
                changed.as_deref(),
                self.opts.progress,
                None,
            )?;
            test_hook::panic_if_changed(cause.unwrap_or_default(), "after");
            Ok((settings, run))
        });
        match result {
            Ok((settings, run)) => {
                let incremental = run.incremental;
                self.install(
                    shared,
                    &settings,
                    run,
                    started,
                    cause.filter(|_| incremental),
                );
            }
            Err((e, panicked)) => {
                if panicked {
                    self.memo = Memo::keeping();
                }
                self.failed(shared, e);
            }
        }
    }

    /// Serves a successful run: the changed files replace the old ones in one step.
    /// `incremental`: the changed files, when the run built on the memo of the last one.
    fn install(
        &mut self,
        shared: &Shared,
        settings: &crate::config::Settings,
        run: Run,
        started: Instant,
        incremental: Option<&[&PathBuf]>,
    ) {
        let timings = self.timings.then(|| run.timings.clone());
        let files: Vec<(Arc<str>, Arc<Vec<u8>>)> =
            run.outputs.into_iter().map(|o| (o.rel, o.bytes)).collect();
        // The same paths in the same order: only the entries that differ change; else a new map.
        let fresh: Option<HashMap<String, Arc<Vec<u8>>>> = (!same_paths(&self.served, &files))
            .then(|| {
                files
                    .iter()
                    .map(|(r, b)| (r.to_string(), b.clone()))
                    .collect()
            });
        let copies: HashMap<String, PathBuf> = run
            .copies
            .iter()
            .map(|(src, dest)| (dest.clone(), src.clone()))
            .collect();
        let total = files.len() + copies.len();
        let prefix = url_path(&settings.base_url);
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
        let updated = match fresh {
            None => {
                let differ = differing(&self.served, &files);
                for &i in &differ {
                    let (rel, bytes) = &files[i];
                    live.files.insert(rel.to_string(), bytes.clone());
                }
                differ.len()
            }
            Some(fresh) => {
                let n = changed_files(&live.files, &fresh);
                live.files = fresh;
                n
            }
        };
        live.copies = copies;
        live.errors.clear();
        if moved {
            live.moved_from = Some(std::mem::replace(&mut live.prefix, prefix));
        }
        live.good = true;
        live.version += 1;
        drop(live);
        shared.changed.notify_all();
        self.served = files;
        self.print(&run.warnings);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match incremental {
            Some(cause) => eprintln!(
                "updated {}: {updated} files in {ms:.1} ms",
                self.shown(cause).join(", ")
            ),
            None => eprintln!("built {total} files in {} ms", ms as u64),
        }
        if let Some(timings) = timings {
            print_timings(&timings, ms);
        }
    }

    /// The changed files as the terminal shows them, relative to the site.
    fn shown(&self, files: &[&PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(&self.opts.root).unwrap_or(p);
                rel.to_string_lossy().replace('\\', "/")
            })
            .collect()
    }

    /// What a rebuild was for, in an internal-error message.
    fn cause_text(&self, cause: Option<&[&PathBuf]>) -> String {
        match cause {
            None => "building the site".into(),
            Some(files) => format!(
                "rebuilding after a change to {}",
                self.shown(files).join(", ")
            ),
        }
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
    }

    fn print(&self, diags: &[Diagnostic]) {
        for d in diags {
            eprint!("{}", d.render(self.color));
        }
    }

    /// Applies changed files by running the pipeline again.
    fn apply(&mut self, shared: &Shared, changed: &BTreeSet<PathBuf>) {
        // A vanished file was deleted (a page, a template…) unless it is an editor's or tool's
        // temporary file; the pipeline loads everything again for a deletion.
        let changed: Vec<&PathBuf> = changed
            .iter()
            .filter(|p| p.exists() || !p.file_name().is_some_and(crate::files::is_ignored))
            .collect();
        if !changed.is_empty() {
            self.rebuild(shared, Some(&changed));
        }
    }
}

/// `serve --timings`: each stage, and what the rebuild took besides (serving it included).
fn print_timings(timings: &[(&'static str, std::time::Duration)], total_ms: f64) {
    let mut stages = 0.0;
    let mut line = String::from("  timings:");
    for (stage, t) in timings {
        let ms = t.as_secs_f64() * 1000.0;
        stages += ms;
        line.push_str(&format!(" {stage} {ms:.1}"));
    }
    line.push_str(&format!(" | other {:.1} ms", total_ms - stages));
    eprintln!("{line}");
}

/// Whether two runs made files at the same paths, in the same order.
fn same_paths(old: &[(Arc<str>, Arc<Vec<u8>>)], new: &[(Arc<str>, Arc<Vec<u8>>)]) -> bool {
    // Kept outputs share their path with the last run: a pointer comparison decides.
    old.len() == new.len()
        && (old.iter().zip(new)).all(|(a, b)| Arc::ptr_eq(&a.0, &b.0) || a.0 == b.0)
}

/// The positions whose bytes differ between two runs with the same paths.
fn differing(old: &[(Arc<str>, Arc<Vec<u8>>)], new: &[(Arc<str>, Arc<Vec<u8>>)]) -> Vec<usize> {
    (0..new.len())
        .filter(|&i| !Arc::ptr_eq(&old[i].1, &new[i].1) && old[i].1 != new[i].1)
        .collect()
}

/// How many files differ between two served versions (changed, added or removed).
fn changed_files(
    old: &HashMap<String, Arc<Vec<u8>>>,
    new: &HashMap<String, Arc<Vec<u8>>>,
) -> usize {
    let differ = new
        .iter()
        .filter(|(rel, bytes)| {
            old.get(*rel)
                .is_none_or(|o| !Arc::ptr_eq(o, bytes) && o != *bytes)
        })
        .count();
    differ + old.keys().filter(|rel| !new.contains_key(*rel)).count()
}

/// Runs one rebuild step and turns a panic in it into an error, so a bug in the engine shows
/// in the terminal and the overlay instead of ending the server. `cause` says what the step
/// was doing ("rebuilding after a change to content/a.md").
fn guarded<T>(
    cause: &str,
    step: impl FnOnce() -> Result<T, BuildError>,
) -> Result<T, (BuildError, bool)> {
    // The caller drops or replaces whatever the step may have left half-done (`true`: it
    // panicked).
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)) {
        Ok(result) => result.map_err(|e| (e, false)),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            let e = BuildError::Other(vec![
                format!("internal error while {cause}; please report it"),
                format!("panic: {msg}"),
            ]);
            Err((e, true))
        }
    }
}

/// Fault injection for the tests: with `WEGWEISER_TEST_PANIC_ON=<file name>` in the
/// environment, a rebuild after a change to a file of that name panics (for a Markdown file
/// after the pipeline updated its memo, else before the run), so the tests can check that the
/// server survives a bug in the engine. It is in release builds too: the tests run the
/// release binary (`cargo test --release` shares the release build's compiled crates), and
/// reading one variable per rebuild costs nothing.
mod test_hook {
    use std::path::PathBuf;

    pub(super) fn panic_if_changed(changed: &[&PathBuf], when: &str) {
        if let Some(name) = std::env::var_os("WEGWEISER_TEST_PANIC_ON") {
            let markdown = name.to_string_lossy().ends_with(".md");
            if (when == "after") == markdown
                && changed
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
                state.memo = Memo::keeping();
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
    crate::files::read_regular(&real).ok()
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
