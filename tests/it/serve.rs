//! `wegweiser serve`, the live preview, with the real binary on a copy of `sites/serve` (base URL
//! `https://example.org/portal/`, test theme): it is started on a free port and talked to over
//! plain HTTP/1.1 while the test edits the site's files.
//!
//! - the site is served below the base URL's sub-path, on loopback only;
//! - an edit to a page's body or title is served within 5 s, on the page and on every listing
//!   that shows it, and the served site then matches a fresh `wegweiser build`;
//! - broken content keeps the last good version on screen, and the errors (`file:line:col`) go
//!   into every page's live-reload tag and to the long poll, until the file is fixed;
//! - no request path reaches a file outside the site.
//!
//! Every server is killed when its test ends, also when the test fails. The tests marked
//! `#[ignore = "engine bug: …"]` fail today; they pass once the bug is fixed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{titles, SiteTest};

/// How long the server may take to build the site and answer.
const START_LIMIT: Duration = Duration::from_secs(20);
/// How long an edit may take to show.
pub(crate) const EDIT_LIMIT: Duration = Duration::from_secs(5);

pub(crate) const APFEL: &str = "content/obst/apfel.md";
pub(crate) const APFEL_URL: &str = "/portal/obst/apfel/";
pub(crate) const BIRNE: &str = "content/obst/birne.md";
pub(crate) const BIRNE_URL: &str = "/portal/obst/birne/";
pub(crate) const OBST_URL: &str = "/portal/obst/";
const KERNOBST_URL: &str = "/portal/suchworte/kernobst/";

pub(crate) fn apfel(title: &str, keywords: &str, body: &str) -> String {
    format!("+++\ntitle = \"{title}\"\nsuchworte = [{keywords}]\n+++\n{body}\n")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// A tiny HTTP/1.1 client: one connection per request, `Connection: close`.

#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: String,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The value of the test theme's `key: value` line, e.g. `title`.
    pub(crate) fn line(&self, key: &str) -> Option<&str> {
        let prefix = format!("{key}:");
        self.body
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(str::trim)
    }

    /// The titles of a `[title](url) | …` line of the test theme.
    fn titles(&self, key: &str) -> String {
        titles(self.line(key).unwrap_or("<no such line>"))
    }

    /// The page's text: what follows the theme's `content:` line, without the live-reload tag.
    pub(crate) fn content(&self) -> String {
        let body = strip_live_tag(&self.body);
        body.split_once("\ncontent:\n")
            .map_or(String::new(), |(_, c)| c.trim().to_string())
    }

    /// `data-version` of the injected live-reload tag.
    pub(crate) fn version(&self) -> u64 {
        live_attr(&self.body, "data-version")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no data-version in:\n{}", self.body))
    }

    /// `data-errors` of the injected live-reload tag, decoded.
    pub(crate) fn errors(&self) -> Vec<String> {
        let raw = live_attr(&self.body, "data-errors")
            .unwrap_or_else(|| panic!("no data-errors in:\n{}", self.body));
        let json = raw
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("data-errors {json:?}: {e}"))
    }
}

const LIVE_TAG: &str = "<script src=\"/__wegweiser/live.js\"";

/// The value of an attribute of the (single) live-reload tag, still HTML-escaped.
fn live_attr(html: &str, name: &str) -> Option<String> {
    let tag_start = html.find(LIVE_TAG)?;
    let tag = &html[tag_start..html[tag_start..].find('>')? + tag_start];
    let after = &tag[tag.find(&format!(" {name}=\""))? + name.len() + 3..];
    Some(after[..after.find('"')?].to_string())
}

/// The page as `wegweiser build` writes it: without the live-reload tag.
fn strip_live_tag(html: &str) -> String {
    assert_eq!(
        html.matches(LIVE_TAG).count(),
        1,
        "expected exactly one live-reload tag in:\n{html}"
    );
    let start = html.find(LIVE_TAG).unwrap();
    let end = start + html[start..].find("</script>").unwrap() + "</script>".len();
    format!("{}{}", &html[..start], &html[end..])
}

pub(crate) fn request(
    addr: SocketAddr,
    target: &str,
    timeout: Duration,
) -> std::io::Result<Response> {
    let host = format!("Host: {addr}\r\n");
    raw_request(addr, &format!("GET {target} HTTP/1.1\r\n{host}"), timeout)
}

/// Sends `head` (request line and headers, each ending in CRLF) and a closing header block.
pub(crate) fn raw_request(
    addr: SocketAddr,
    head: &str,
    timeout: Duration,
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "{head}User-Agent: wegweiser-test\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers.contains_key("transfer-encoding") {
        return Err(bad(
            "chunked responses are not expected from wegweiser serve",
        ));
    }
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&raw[split + 4..]).into_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// The server process.

/// A running `wegweiser serve`; killed when dropped.
pub(crate) struct Serve {
    pub(crate) child: Child,
    pub(crate) port: u16,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Start {
    Ready,
    /// Someone else took the port between our probe and the server's bind.
    PortTaken,
}

impl Serve {
    /// `wegweiser serve --root <site> --port <free port> ARGS`, once it answers and watches.
    #[track_caller]
    pub(crate) fn start(site: &SiteTest, args: &[&str]) -> Serve {
        Serve::start_with_env(site, args, &[])
    }

    /// [`Serve::start`] with these environment variables (the server's is otherwise empty).
    #[track_caller]
    pub(crate) fn start_with_env(site: &SiteTest, args: &[&str], env: &[(&str, &str)]) -> Serve {
        for _ in 0..5 {
            let mut serve = Serve::spawn(site, args, env);
            match serve.wait_until_ready() {
                Start::Ready => {
                    serve.wait_until_watching(site);
                    return serve;
                }
                Start::PortTaken => continue,
            }
        }
        panic!("could not find a free port for wegweiser serve");
    }

    /// Starts `wegweiser serve --root <site> --port <free port> ARGS`, with its output in a log.
    fn spawn(site: &SiteTest, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let port = free_port();
        let log_dir = tempfile::Builder::new()
            .prefix("wegweiser-serve-log-")
            .tempdir()
            .unwrap();
        let log = log_dir.path().join("serve.log");
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wegweiser"));
        cmd.arg("serve")
            .arg("--root")
            .arg(site.root())
            .args(["--port", &port.to_string()])
            .args(args)
            .current_dir(site.root())
            .env_clear()
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        let child = cmd.spawn().expect("start wegweiser serve");
        Serve {
            child,
            port,
            log,
            _log_dir: log_dir,
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// What the server printed so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_until_ready(&mut self) -> Start {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = self.log();
                if log.contains("cannot listen") {
                    return Start::PortTaken;
                }
                panic!("wegweiser serve ended ({status}) before it answered:\n{log}");
            }
            let left = START_LIMIT.saturating_sub(started.elapsed());
            assert!(
                !left.is_zero(),
                "wegweiser serve did not answer within {START_LIMIT:?}:\n{}",
                self.log()
            );
            // The port is bound before the first build; the answer comes after it.
            match request(self.addr(), "/__wegweiser/live.js", left) {
                Ok(r) if r.status == 200 && r.body.contains("wegweiser-errors") => {
                    return Start::Ready
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// The server registers its file watcher just after it starts answering: saves
    /// `content/_index.md` unchanged until a rebuild shows, so no test edit falls into the gap.
    fn wait_until_watching(&self, site: &SiteTest) {
        let started = Instant::now();
        let home = site.file("content/_index.md");
        let version = self.poll(0, START_LIMIT).expect("first poll").version;
        while started.elapsed() < START_LIMIT {
            site.write("content/_index.md", &home);
            if let Some(state) = self.poll(version, Duration::from_millis(500)) {
                if state.version != version {
                    return;
                }
            }
        }
        panic!(
            "wegweiser serve did not notice a saved file within {START_LIMIT:?}:\n{}",
            self.log()
        );
    }

    #[track_caller]
    pub(crate) fn get(&self, target: &str) -> Response {
        request(self.addr(), target, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("GET {target}: {e}\nserver log:\n{}", self.log()))
    }

    /// GET `target` until `ok` holds, for at most [`EDIT_LIMIT`].
    #[track_caller]
    pub(crate) fn wait_for(
        &self,
        target: &str,
        what: &str,
        ok: impl Fn(&Response) -> bool,
    ) -> Response {
        let started = Instant::now();
        loop {
            let r = self.get(target);
            if ok(&r) {
                return r;
            }
            if started.elapsed() > EDIT_LIMIT {
                panic!(
                    "{target} did not show {what} within {EDIT_LIMIT:?}; last response ({}):\n{}\n\
                     server log:\n{}",
                    r.status,
                    r.body,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `/__wegweiser/poll?v=V`: the state once its version differs from `v`; `None` if the
    /// server did not answer within `timeout`.
    pub(crate) fn poll(&self, v: u64, timeout: Duration) -> Option<PollState> {
        let r = request(self.addr(), &format!("/__wegweiser/poll?v={v}"), timeout).ok()?;
        assert_eq!(r.status, 200, "poll: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let json: serde_json::Value =
            serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("poll {:?}: {e}", r.body));
        Some(PollState {
            version: json["version"].as_u64().expect("poll: version"),
            errors: json["errors"]
                .as_array()
                .expect("poll: errors")
                .iter()
                .map(|e| e.as_str().expect("poll: error text").to_string())
                .collect(),
        })
    }
}

#[derive(Debug)]
pub(crate) struct PollState {
    pub(crate) version: u64,
    pub(crate) errors: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// (f) The base path.

#[test]
fn serves_the_site_below_the_base_urls_path() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    let port = serve.port;
    assert!(
        serve.log().contains(&format!(
            "serving on http://127.0.0.1:{port}/portal/ (Ctrl+C to stop)"
        )),
        "{}",
        serve.log()
    );

    let page = serve.get(APFEL_URL);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.line("title"), Some("Apfel"));
    assert_eq!(page.content(), "<p>Ein Apfel am Tag.</p>");
    // Links point at the dev server, below the same sub-path.
    assert_eq!(
        page.line("permalink"),
        Some(format!("http://127.0.0.1:{port}/portal/obst/apfel/").as_str())
    );
    assert_eq!(
        page.line("section"),
        Some(format!("[Obst](http://127.0.0.1:{port}/portal/obst/)").as_str())
    );
    assert_eq!(page.errors(), Vec::<String>::new());

    let home = serve.get("/portal/");
    assert_eq!(home.status, 200);
    assert_eq!(home.line("template"), Some("index.html"));
    assert_eq!(serve.get("/portal/obst/apfel/index.html").body, page.body);
    assert_eq!(serve.get(KERNOBST_URL).line("name"), Some("Kernobst"));

    // Static files of the site and the theme, without the live-reload tag.
    let robots = serve.get("/portal/robots.txt");
    assert_eq!(
        (robots.status, robots.body.as_str()),
        (200, "User-agent: *\nDisallow:\n")
    );
    let css = serve.get("/portal/theme.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(!css.body.contains(LIVE_TAG));
    let js = serve.get("/__wegweiser/live.js");
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );

    // Redirects: the server root and folder URLs without their slash.
    for (from, to) in [
        ("/", "/portal/"),
        ("/portal", "/portal/"),
        ("/portal/obst", "/portal/obst/"),
        ("/portal/obst/apfel", "/portal/obst/apfel/"),
    ] {
        let r = serve.get(from);
        assert_eq!((r.status, r.header("location")), (302, Some(to)), "{from}");
    }
    // Outside the base path, or missing: 404.
    for missing in [
        "/obst/apfel/",
        "/index.html",
        "/robots.txt",
        "/portalx/",
        "/portal/obst/quitte/",
        "/portal/theme.css/",
        "/__wegweiser/unknown",
    ] {
        assert_eq!(serve.get(missing).status, 404, "{missing}");
    }
}

#[test]
fn a_site_without_a_sub_path_is_served_at_the_root() {
    let site = SiteTest::new("minimal");
    let serve = Serve::start(&site, &[]);
    let home = serve.get("/");
    assert_eq!(home.status, 200);
    assert_eq!(home.line("template"), Some("index.html"));
    let page = serve.get("/seite/");
    assert_eq!(page.line("title"), Some("Seite"));
    assert_eq!(
        page.line("permalink"),
        Some(format!("http://127.0.0.1:{}/seite/", serve.port).as_str())
    );
    let r = serve.get("/seite");
    assert_eq!((r.status, r.header("location")), (302, Some("/seite/")));
}

// ---------------------------------------------------------------------------------------------
// (a), (b) Edits.

#[test]
fn timings_flag_prints_each_rebuilds_stages() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &["--timings"]);
    site.write(APFEL, apfel("Apfel", "\"Kernobst\"", "Drei Äpfel."));
    serve.wait_for(APFEL_URL, "the new text", |r| {
        r.content() == "<p>Drei Äpfel.</p>"
    });
    let stages = |line: &str| -> Vec<String> {
        let (stages, other) = line.split_once(" | ").unwrap_or((line, ""));
        assert!(
            other.starts_with("other ") && other.ends_with(" ms"),
            "{line}"
        );
        stages
            .trim_start_matches("  timings:")
            .split_whitespace()
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    // The first build's line, the start-up probe's and the edit's; the log may lag the
    // served page a little.
    let started = std::time::Instant::now();
    while !serve.log().contains("updated content/obst/apfel.md") && started.elapsed() < EDIT_LIMIT {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = serve.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("  timings:"))
        .collect();
    let edit = log
        .lines()
        .position(|l| l.starts_with("updated content/obst/apfel.md"));
    assert!(
        edit.is_some_and(|i| log
            .lines()
            .nth(i + 1)
            .is_some_and(|l| l.starts_with("  timings:"))),
        "{log}"
    );
    assert!(lines.len() >= 2, "{log}");
    for line in &lines {
        assert_eq!(
            stages(line),
            ["load", "parse", "resolve", "markdown", "keywords", "render", "publish"],
            "{line}"
        );
    }
}

#[test]
fn a_body_edit_is_served_within_seconds() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    let before = serve.get(APFEL_URL);
    assert_eq!(before.content(), "<p>Ein Apfel am Tag.</p>");

    site.write(
        APFEL,
        apfel("Apfel", "\"Kernobst\"", "Zwei *Äpfel* am Tag."),
    );
    let after = serve.wait_for(APFEL_URL, "the new text", |r| {
        r.content() == "<p>Zwei <em>Äpfel</em> am Tag.</p>"
    });
    assert!(after.version() > before.version());
    assert_eq!(after.errors(), Vec::<String>::new());
    // Only this page changed: no full rebuild.
    let log = serve.log();
    let line = log
        .lines()
        .find(|l| l.starts_with("updated content/obst/apfel.md: "))
        .unwrap_or_else(|| panic!("no update line in the log:\n{log}"));
    assert!(
        line.ends_with(" ms") && line.contains(" files in "),
        "{line}"
    );
    assert_eq!(
        log.matches("built ").count(),
        1,
        "a body edit rebuilt everything:\n{log}"
    );
}

#[test]
fn a_title_edit_shows_in_the_section_listing_and_on_keyword_pages() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    assert_eq!(serve.get(OBST_URL).titles("pages"), "Apfel | Birne");

    // "Zierapfel" sorts after "Birne" (the section sorts by title).
    site.write(
        APFEL,
        apfel("Zierapfel", "\"Kernobst\"", "Ein Apfel am Tag."),
    );
    let listing = serve.wait_for(OBST_URL, "the new title", |r| {
        r.titles("pages") == "Birne | Zierapfel"
    });
    assert_eq!(listing.errors(), Vec::<String>::new());
    assert_eq!(serve.get(APFEL_URL).line("title"), Some("Zierapfel"));
    let kernobst = serve.get(KERNOBST_URL);
    assert_eq!(kernobst.titles("pages"), "Birne | Zierapfel");
    // The neighbours changed with the order, and Birne's backlinks show the new title.
    let birne = serve.get(BIRNE_URL);
    assert_eq!(birne.titles("prev"), "-");
    assert_eq!(birne.titles("next"), "Zierapfel");
    assert_eq!(serve.get(APFEL_URL).titles("prev"), "Birne");
    assert!(
        serve.log().contains("updated content/obst/apfel.md: "),
        "{}",
        serve.log()
    );
}

// ---------------------------------------------------------------------------------------------
// (c) Errors.

#[test]
fn broken_content_keeps_the_last_good_version_and_reports_file_line_col() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    site.write(APFEL, apfel("Apfel", "\"Kernobst\"", "Gute Fassung."));
    let good = serve.wait_for(APFEL_URL, "the good text", |r| {
        r.content() == "<p>Gute Fassung.</p>"
    });
    let good_version = good.version();

    // An unterminated string in the front matter, on line 2.
    site.write(
        APFEL,
        "+++\ntitle = \"Apfel\nsuchworte = [\"Kernobst\"]\n+++\nKaputte Fassung.\n",
    );
    let broken = serve.wait_for(APFEL_URL, "the errors", |r| !r.errors().is_empty());
    assert_eq!(
        broken.content(),
        "<p>Gute Fassung.</p>",
        "the last good version"
    );
    assert!(broken.version() > good_version);
    let errors = broken.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("content/obst/apfel.md:2:") && errors[0].contains(": error: "),
        "{errors:?}"
    );
    let col = errors[0].split(':').nth(2).unwrap();
    assert!(col.parse::<u32>().is_ok_and(|c| c > 0), "{errors:?}");
    // Every page carries the errors, not only the broken one; the raw JSON is escaped.
    let listing = serve.get(OBST_URL);
    assert_eq!(listing.errors(), errors);
    assert_eq!(listing.titles("pages"), "Apfel | Birne");
    let tag = &listing.body[listing.body.find(LIVE_TAG).unwrap()..];
    assert!(
        tag.contains("data-errors=\"[&quot;content/obst/apfel.md:2:"),
        "{tag}"
    );
    // The long poll gives the same errors to a tab that saw the good version.
    let state = serve.poll(good_version, EDIT_LIMIT).expect("poll answers");
    assert_eq!(state.version, broken.version());
    assert_eq!(state.errors, errors);
    assert!(
        serve
            .log()
            .contains("rebuild failed; still serving the last good version"),
        "{}",
        serve.log()
    );

    // A link to a missing page, on line 5: reported at its place as well.
    site.write(
        APFEL,
        apfel("Apfel", "\"Kernobst\"", "Siehe [Quitte](@/obst/quitte.md)."),
    );
    let broken = serve.wait_for(APFEL_URL, "the link error", |r| {
        r.errors()
            .iter()
            .any(|e| e.starts_with("content/obst/apfel.md:5:"))
    });
    assert_eq!(broken.content(), "<p>Gute Fassung.</p>");

    // A tab waiting on the broken version learns of the fix without errors.
    let waiting = broken.version();
    let addr = serve.addr();
    let poller = std::thread::spawn(move || {
        request(
            addr,
            &format!("/__wegweiser/poll?v={waiting}"),
            Duration::from_secs(20),
        )
    });
    std::thread::sleep(Duration::from_millis(200));
    site.write(APFEL, apfel("Apfel", "\"Kernobst\"", "Reparierte Fassung."));
    let fixed = serve.wait_for(APFEL_URL, "the fixed text", |r| {
        r.content() == "<p>Reparierte Fassung.</p>"
    });
    assert_eq!(fixed.errors(), Vec::<String>::new());
    assert_eq!(serve.get(OBST_URL).errors(), Vec::<String>::new());
    let woke = poller.join().unwrap().expect("long poll answers");
    let woke: serde_json::Value = serde_json::from_str(&woke.body).unwrap();
    assert!(woke["version"].as_u64().unwrap() > waiting, "{woke}");
    assert_eq!(woke["errors"], serde_json::json!([]), "{woke}");
    let state = serve.poll(good_version, EDIT_LIMIT).expect("poll answers");
    assert_eq!(state.errors, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// (d) Path traversal.

#[test]
fn no_request_path_leaves_the_site() {
    let site = SiteTest::new("serve");
    // Secrets inside the site root (not published) and beside it.
    site.write("geheim.txt", "GEHEIM-IM-ORDNER\n");
    let beside = site.root().parent().unwrap().join("geheim.txt");
    std::fs::write(&beside, "GEHEIM-DANEBEN\n").unwrap();
    let serve = Serve::start(&site, &[]);

    let secrets = [
        "GEHEIM-IM-ORDNER",
        "GEHEIM-DANEBEN",
        "base_url",        // config.toml
        "root:x:0:0",      // /etc/passwd
        "title = \"Apfel", // the Markdown source
        "{%",              // templates
    ];
    let attempts = [
        "/../etc/passwd",
        "/../../../../../../etc/passwd",
        "/portal/../config.toml",
        "/portal/../geheim.txt",
        "/portal/../../geheim.txt",
        "/portal/obst/../../config.toml",
        "/portal/obst/apfel/..",
        "/portal/obst/..",
        "/portal/./config.toml",
        "/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/portal/%2e%2e/config.toml",
        "/portal/%2E%2E%2Fconfig.toml",
        "/portal/%2e%2e%2f%2e%2e%2fgeheim.txt",
        "/portal/..%2fconfig.toml",
        "/portal/..%2F..%2Fgeheim.txt",
        "/portal/.%2e/config.toml",
        "/portal/%2e./config.toml",
        "/portal/%2e/config.toml",
        "/portal/..%5cconfig.toml",
        "/portal/%2e%2e%5cconfig.toml",
        "/portal/..\\config.toml",
        "/portal/%252e%252e/config.toml",
        "/portal/%252e%252e%252fconfig.toml",
        "/portal/%c0%ae%c0%ae/config.toml",
        "/portal/%c0%af../config.toml",
        "/portal/%e0%80%ae%e0%80%ae/config.toml",
        "/portal/config.toml%00.html",
        "/portal/%00",
        "/portal/%",
        "/portal/%2",
        "/portal/%zz",
        "//etc/passwd",
        "/portal//etc/passwd",
        "/portal/%2fetc%2fpasswd",
        "/portal/%2Fetc/passwd",
        "/portal/content/obst/apfel.md",
        "/portal/config.toml",
        "/portal/geheim.txt",
        "/portal/static/robots.txt",
        "/portal/themes/test/templates/page.html",
        "/portal/templates/page.html",
        "/content/obst/apfel.md",
        "/config.toml",
        "/geheim.txt",
        "/__wegweiser/../config.toml",
        "/__wegweiser/..%2f..%2fconfig.toml",
        "/__wegweiser/%2e%2e/geheim.txt",
        "/__wegweiser/../portal/../config.toml",
    ];
    let mut wrong = Vec::new();
    for target in attempts {
        let r = serve.get(target);
        if ![400, 404].contains(&r.status) {
            wrong.push(format!("{target}: status {}", r.status));
        }
        for secret in secrets {
            if r.body.contains(secret) {
                wrong.push(format!("{target}: the response contains {secret:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // `..` in any spelling is refused outright.
    for target in [
        "/portal/../config.toml",
        "/portal/%2e%2e/config.toml",
        "/portal/%2E%2E%2Fconfig.toml",
        "/portal/..%2fconfig.toml",
        "/%2e%2e/etc/passwd",
    ] {
        assert_eq!(serve.get(target).status, 400, "{target}");
    }
    // The query and the fragment are not part of the path.
    for target in [
        "/portal/obst/apfel/?../../../config.toml",
        "/portal/obst/apfel/?f=%2e%2e%2fconfig.toml",
    ] {
        let r = serve.get(target);
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.line("title"), Some("Apfel"), "{target}");
    }
    // The server is still there.
    assert_eq!(serve.get(APFEL_URL).line("title"), Some("Apfel"));
}

// ---------------------------------------------------------------------------------------------
// (e) Loopback only.

/// The machine's own addresses other than loopback: the source address of the default routes
/// (a UDP "connect" sends nothing) and, on Linux, the local addresses in /proc/net/fib_trie.
fn non_loopback_addresses() -> BTreeSet<IpAddr> {
    let mut found = BTreeSet::new();
    for (bind, peer) in [("0.0.0.0:0", "192.0.2.1:9"), ("0.0.0.0:0", "8.8.8.8:53")] {
        if let Ok(s) = UdpSocket::bind(bind) {
            if s.connect(peer).is_ok() {
                if let Ok(a) = s.local_addr() {
                    found.insert(a.ip());
                }
            }
        }
    }
    if let Ok(trie) = std::fs::read_to_string("/proc/net/fib_trie") {
        let lines: Vec<&str> = trie.lines().collect();
        for pair in lines.windows(2) {
            if pair[1].trim() == "/32 host LOCAL" {
                if let Some(ip) = pair[0].trim().strip_prefix("|-- ") {
                    if let Ok(ip) = ip.parse() {
                        found.insert(ip);
                    }
                }
            }
        }
    }
    found.retain(|ip: &IpAddr| !ip.is_loopback() && !ip.is_unspecified());
    found
}

#[test]
fn listens_on_loopback_only_by_default() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    assert_eq!(serve.get(APFEL_URL).status, 200);
    let mut checked = 0;
    for ip in non_loopback_addresses() {
        // Only addresses this machine can reach itself on prove anything.
        let Ok(probe) = TcpListener::bind((ip, 0)) else {
            continue;
        };
        let reachable =
            TcpStream::connect_timeout(&probe.local_addr().unwrap(), Duration::from_secs(2))
                .is_ok();
        drop(probe);
        if !reachable {
            continue;
        }
        let addr = SocketAddr::new(ip, serve.port);
        let answer = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
        assert!(
            answer.is_err(),
            "wegweiser serve answers on {addr}, not only on loopback"
        );
        checked += 1;
    }
    if checked == 0 {
        crate::harness::cannot_run(
            "the loopback-only check",
            "this machine has no other address it can reach itself on",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Incremental updates against a full build.

/// Every file of a fresh `wegweiser build` with the server's base URL, and what the server
/// serves at its URL (without the live-reload tag), must be the same; URLs that a full build no
/// longer has must be 404. (`robots.txt` is left out: see
/// `the_sites_own_robots_txt_survives_a_front_matter_edit`.)
#[track_caller]
pub(crate) fn assert_served_like_a_full_build(
    site: &SiteTest,
    serve: &Serve,
    step: &str,
    seen: &mut BTreeSet<String>,
) {
    let out = tempfile::Builder::new()
        .prefix("wegweiser-serve-full-")
        .tempdir()
        .unwrap();
    let dest = out.path().join("public");
    let base = format!("http://127.0.0.1:{}/portal/", serve.port);
    site.run(&[
        "build",
        "--base-url",
        &base,
        "--output-dir",
        dest.to_str().unwrap(),
    ])
    .success();
    let mut wrong = Vec::new();
    let mut now = BTreeSet::new();
    for file in walkdir::WalkDir::new(&dest).min_depth(1) {
        let file = file.unwrap();
        if !file.file_type().is_file() {
            continue;
        }
        let rel = file.path().strip_prefix(&dest).unwrap();
        let rel = rel.to_string_lossy().replace('\\', "/");
        now.insert(rel.clone());
        if rel == "robots.txt" {
            continue;
        }
        let want = std::fs::read_to_string(file.path()).unwrap();
        let r = serve.get(&format!("/portal/{rel}"));
        let got = if rel.ends_with(".html") {
            strip_live_tag(&r.body)
        } else {
            r.body.clone()
        };
        if r.status != 200 || got != want {
            wrong.push(format!(
                "{rel}: served ({}):\n{got}\n--- a full build writes:\n{want}",
                r.status
            ));
        }
    }
    for gone in seen.difference(&now) {
        let r = serve.get(&format!("/portal/{gone}"));
        if r.status != 404 {
            wrong.push(format!(
                "{gone}: status {} though a full build no longer has it",
                r.status
            ));
        }
    }
    assert!(now.len() > 5, "a full build has the site's files: {now:?}");
    seen.extend(now);
    assert!(
        wrong.is_empty(),
        "after {step}, the server differs from a full build:\n{}\nserver log:\n{}",
        wrong.join("\n"),
        serve.log()
    );
}

#[test]
fn incremental_updates_match_a_full_build() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    let mut seen = BTreeSet::new();
    assert_served_like_a_full_build(&site, &serve, "the start", &mut seen);

    let steps: [(&str, &str, String, &str, &str); 8] = [
        (
            "a body edit",
            APFEL,
            apfel("Apfel", "\"Kernobst\"", "Schritt 1."),
            APFEL_URL,
            "Schritt 1.",
        ),
        (
            "a title edit that reorders the section",
            APFEL,
            apfel("Zierapfel", "\"Kernobst\"", "Schritt 2."),
            APFEL_URL,
            "Schritt 2.",
        ),
        (
            "a new keyword",
            APFEL,
            apfel("Zierapfel", "\"Kernobst\", \"Rot\"", "Schritt 3."),
            APFEL_URL,
            "Schritt 3.",
        ),
        (
            "a keyword dropped",
            APFEL,
            apfel("Zierapfel", "\"Rot\"", "Schritt 4."),
            APFEL_URL,
            "Schritt 4.",
        ),
        (
            "a new heading",
            APFEL,
            apfel("Zierapfel", "\"Rot\"", "## Sorten {#sorten}\n\nSchritt 5."),
            APFEL_URL,
            "Schritt 5.",
        ),
        (
            "a link to the new heading from another page, with a title edit",
            BIRNE,
            "+++\ntitle = \"Nashibirne\"\nsuchworte = [\"Kernobst\"]\n+++\n\
             Schritt 6, [anders als der Apfel](@/obst/apfel.md#sorten).\n"
                .to_string(),
            BIRNE_URL,
            "Schritt 6",
        ),
        (
            "a section's body edit",
            "content/obst/_index.md",
            "+++\ntitle = \"Obst\"\nsort_by = \"title\"\n+++\nSchritt 7.\n".to_string(),
            OBST_URL,
            "Schritt 7.",
        ),
        (
            "the last keyword of a page and of the site dropped",
            APFEL,
            apfel("Zierapfel", "", "## Sorten {#sorten}\n\nSchritt 8."),
            APFEL_URL,
            "Schritt 8.",
        ),
    ];
    for (step, file, text, url, marker) in steps {
        site.write(file, &text);
        serve.wait_for(url, marker, |r| r.content().contains(marker));
        assert_served_like_a_full_build(&site, &serve, step, &mut seen);
    }
    assert!(
        seen.contains("suchworte/rot/index.html"),
        "the keyword page of `Rot` was never built"
    );
    assert_eq!(
        serve.log().matches("built ").count(),
        1,
        "an edit of a page's text or front matter rebuilt everything:\n{}",
        serve.log()
    );
}

// ---------------------------------------------------------------------------------------------
// Engine bugs, kept as failing tests.

#[test]
fn a_new_link_shows_in_the_linked_pages_backlinks() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    assert_eq!(serve.get(BIRNE_URL).titles("backlinks"), "-");
    site.write(
        APFEL,
        apfel("Apfel", "\"Kernobst\"", "Siehe [die Birne](birne.md)."),
    );
    serve.wait_for(APFEL_URL, "the link", |r| r.content().contains("die Birne"));
    serve.wait_for(BIRNE_URL, "Apfel in its backlinks", |r| {
        r.titles("backlinks") == "Apfel"
    });
}

#[test]
fn editing_a_keyword_description_updates_its_keyword_page() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    assert!(serve
        .get(KERNOBST_URL)
        .content()
        .contains("Kernobst hat ein Kerngehäuse."));
    site.write(
        "content/suchworte/kernobst.md",
        "+++\ntitle = \"Kernobst\"\n+++\nNeue Beschreibung.\n",
    );
    serve.wait_for(KERNOBST_URL, "the new description", |r| {
        r.content().contains("Neue Beschreibung.")
    });
}

#[test]
fn editing_the_keyword_index_text_updates_the_keyword_index() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    let url = "/portal/suchworte/";
    assert!(serve
        .get(url)
        .content()
        .contains("Alle Suchworte der Vorschau."));
    site.write(
        "content/suchworte/_index.md",
        "+++\ntitle = \"Suchworte\"\n+++\nNeuer Einleitungstext.\n",
    );
    serve.wait_for(url, "the new text", |r| {
        r.content().contains("Neuer Einleitungstext.")
    });
}

#[test]
fn the_sites_own_robots_txt_survives_a_front_matter_edit() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &[]);
    let own = "User-agent: *\nDisallow:\n";
    assert_eq!(serve.get("/portal/robots.txt").body, own);
    site.write(
        APFEL,
        apfel("Zierapfel", "\"Kernobst\"", "Ein Apfel am Tag."),
    );
    serve.wait_for(APFEL_URL, "the new title", |r| {
        r.line("title") == Some("Zierapfel")
    });
    assert_eq!(serve.get("/portal/robots.txt").body, own);
}

#[test]
fn a_file_saved_during_the_first_build_is_picked_up() {
    let site = SiteTest::new("serve");
    // 1,000 documents make the build print its stages ("markdown: … done"), and take a while.
    site.write(
        "content/viele/_index.md",
        "+++\ntitle = \"Viele\"\n+++\nViele Seiten.\n",
    );
    for i in 0..1000 {
        site.write(
            &format!("content/viele/seite-{i}.md"),
            format!("+++\ntitle = \"Seite {i}\"\nsuchworte = [\"Menge\"]\n+++\nText {i}.\n"),
        );
    }
    let mut serve = Serve::spawn(&site, &[], &[]);
    // Save a page once the build has read the sources (its first stage line), before it ends.
    let started = Instant::now();
    while !serve.log().contains("markdown: ") {
        assert!(started.elapsed() < START_LIMIT, "{}", serve.log());
        std::thread::sleep(Duration::from_millis(5));
    }
    site.write(
        APFEL,
        apfel("Apfel", "\"Kernobst\"", "Während des ersten Builds."),
    );
    assert!(
        !serve.log().contains("serving on"),
        "the build ended before the save; the test proves nothing:\n{}",
        serve.log()
    );
    assert!(matches!(serve.wait_until_ready(), Start::Ready));
    serve.wait_for(APFEL_URL, "the text saved during the first build", |r| {
        r.content() == "<p>Während des ersten Builds.</p>"
    });
}
