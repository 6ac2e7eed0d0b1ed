//! The real portal served by nginx below a sub-path (`/portal/`), as it would be on a shared
//! web server: built with `--target internet --base-url http://127.0.0.1:PORT/portal/`, then
//! crawled from `/portal/` following every same-origin link and asset (href/src in HTML, url()
//! in CSS, the sitemap's URLs, the feed's links). Every response must be 200 and every URL must
//! stay below `/portal/`; a missing page gets status 404 and the site's 404 page.
//!
//! Without nginx (`/usr/sbin/nginx` or `nginx` on the PATH) the test fails in CI (`CI` set, or
//! `WEGWEISER_REQUIRE_NGINX=1`); elsewhere it prints a note and does not run.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::scan;

const PREFIX: &str = "/portal/";
const MAX_REQUESTS: usize = 5_000;
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Stops nginx when the test ends, also when it panics.
struct Nginx {
    child: Child,
    error_log: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.error_log).unwrap_or_default()
    }
}

/// `/usr/sbin/nginx`, else `nginx` on the PATH.
fn find_nginx() -> Option<PathBuf> {
    let usual = PathBuf::from("/usr/sbin/nginx");
    if usual.is_file() {
        return Some(usual);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts nginx on `port`; Err with its error log if it exits (e.g. the port was taken).
fn start_nginx(nginx: &Path, tmp: &Path, out: &Path, port: u16) -> Result<Nginx, String> {
    let _ = std::fs::remove_file(tmp.join("nginx.pid"));
    for d in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        std::fs::create_dir_all(tmp.join("temp").join(d)).unwrap();
    }
    let t = |rel: &str| tmp.join(rel).display().to_string();
    let conf = format!(
        r#"# Written by tests/it/serve_nginx.rs.
daemon off;
master_process off;
worker_processes 1;
pid {pid};
error_log {error_log} warn;
events {{ worker_connections 64; }}
http {{
    types {{
        text/html html;
        text/css css;
        application/javascript js;
        application/json json;
        application/xml xml;
        text/plain txt;
        text/csv csv;
        application/pdf pdf;
        image/svg+xml svg;
        image/png png;
        application/wasm wasm;
    }}
    default_type application/octet-stream;
    charset utf-8;
    access_log {access_log};
    client_body_temp_path {body};
    proxy_temp_path {proxy};
    fastcgi_temp_path {fastcgi};
    uwsgi_temp_path {uwsgi};
    scgi_temp_path {scgi};
    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1;
        location {PREFIX} {{
            alias {out}/;
            index index.html;
        }}
        error_page 404 {PREFIX}404.html;
    }}
}}
"#,
        pid = t("nginx.pid"),
        error_log = t("error.log"),
        access_log = t("access.log"),
        body = t("temp/client_body"),
        proxy = t("temp/proxy"),
        fastcgi = t("temp/fastcgi"),
        uwsgi = t("temp/uwsgi"),
        scgi = t("temp/scgi"),
        out = out.display(),
    );
    let conf_path = tmp.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(nginx)
        .arg("-c")
        .arg(&conf_path)
        .arg("-p")
        .arg(tmp)
        .arg("-e")
        .arg(tmp.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", nginx.display()));
    let mut nginx = Nginx {
        child,
        error_log: tmp.join("error.log"),
    };
    let start = Instant::now();
    loop {
        // Listening, and it is this nginx (not another program that took the port).
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && tmp.join("nginx.pid").is_file() {
            std::thread::sleep(Duration::from_millis(50));
            if nginx.child.try_wait().unwrap().is_none() {
                return Ok(nginx);
            }
        }
        if let Some(status) = nginx.child.try_wait().unwrap() {
            return Err(format!("nginx exited with {status}:\n{}", nginx.log()));
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nginx does not listen on port {port}:\n{}",
            nginx.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Response {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// GET over HTTP/1.1, one connection per request.
fn get(port: u16, target: &str) -> Response {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: wegweiser-test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("GET {target}: {e}"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {target}: no header end"));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {target}: bad status line {status_line:?}"));
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size =
            usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
}

/// Percent-encodes what may not stand in a request line.
fn encode(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Resolves a link on the page at `base_path` (absolute path) to an absolute path on this
/// origin without fragment; None for other origins and non-HTTP schemes.
fn resolve(origin: &str, base_path: &str, link: &str) -> Option<String> {
    let link = link.trim();
    let link = link.split('#').next().unwrap_or("");
    if link.is_empty() {
        return None; // a fragment of the same page
    }
    let lower = link.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix(origin) {
        let rest_start = link.len() - rest.len();
        let path = &link[rest_start..];
        return Some(if path.is_empty() {
            "/".into()
        } else {
            normalize(path)
        });
    }
    let scheme = lower.split_once(':').map_or("", |(s, _)| s);
    let has_scheme = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if has_scheme || lower.starts_with("//") {
        return None; // https://other, mailto:, data:, javascript:, tel:
    }
    if link.starts_with('/') {
        return Some(normalize(link));
    }
    let (base_path, _) = base_path.split_once('?').unwrap_or((base_path, ""));
    let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
    if let Some(query) = link.strip_prefix('?') {
        return Some(format!("{base_path}?{query}"));
    }
    Some(normalize(&format!("{dir}{link}")))
}

/// Removes `.` and `..` segments (never above the root), keeps a trailing slash and a query.
fn normalize(path: &str) -> String {
    let (p, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut segs: Vec<&str> = Vec::new();
    let parts: Vec<&str> = p.split('/').collect();
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            "" if i == 0 => {}
            "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    let trailing = matches!(parts.last(), Some(&"" | &"." | &".."));
    let mut out = format!("/{}", segs.join("/"));
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    out = out.replace("//", "/");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `url(...)` values of a stylesheet.
fn css_urls(css: &str) -> Vec<String> {
    css.split("url(")
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .map(|s| s.trim().trim_matches(['"', '\'']).to_string())
        .collect()
}

#[test]
fn portal_below_a_sub_path_has_no_broken_links() {
    let Some(nginx_bin) = find_nginx() else {
        let required = std::env::var("WEGWEISER_REQUIRE_NGINX").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "WEGWEISER_REQUIRE_NGINX=1 but nginx is not installed (apt-get install nginx)"
        );
        crate::harness::cannot_run(
            "the nginx sub-path test",
            "nginx is not installed (apt-get install nginx)",
        );
        return;
    };
    let tmp = tempfile::Builder::new()
        .prefix("wegweiser-nginx-")
        .tempdir()
        .unwrap();
    let out = tmp.path().join("public");
    // The port is in every URL of the build; if another program takes it before nginx does,
    // build again for another one.
    let mut attempt = 0;
    let (nginx, port) = loop {
        attempt += 1;
        let port = free_port();
        let run = Command::new(env!("CARGO_BIN_EXE_wegweiser"))
            .args(["build", "--root", env!("CARGO_MANIFEST_DIR")])
            .args(["--target", "internet", "--base-url"])
            .arg(format!("http://127.0.0.1:{port}{PREFIX}"))
            .arg("--output-dir")
            .arg(&out)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        match start_nginx(&nginx_bin, tmp.path(), &out, port) {
            Ok(n) => break (n, port),
            Err(log) if attempt < 3 && log.contains("in use") => continue,
            Err(log) => panic!("{log}"),
        }
    };
    let origin = format!("http://127.0.0.1:{port}");
    let base_url = format!("{origin}{PREFIX}");

    let start = Instant::now();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new(); // (path, found on)
    let mut seeds: Vec<String> = ["", "sitemap.xml", "atom.xml", "robots.txt"]
        .map(String::from)
        .to_vec();
    // The search index, which search.js loads from script: every file must be served.
    let bundle = out.join("pagefind");
    if bundle.is_dir() {
        seeds.extend(
            scan::files(&bundle)
                .iter()
                .map(|f| format!("pagefind/{}", scan::rel(&bundle, f))),
        );
    }
    for p in seeds {
        let path = format!("{PREFIX}{p}");
        seen.insert(path.clone());
        queue.push_back((path, "start".into()));
    }
    let mut problems = Vec::new();
    let mut html_pages = 0;
    let mut requests = 0;
    while let Some((path, from)) = queue.pop_front() {
        assert!(
            requests < MAX_REQUESTS,
            "more than {MAX_REQUESTS} requests; last {path}"
        );
        assert!(
            start.elapsed() < TIME_LIMIT,
            "crawl took longer than {TIME_LIMIT:?} ({requests} requests)"
        );
        if !path.starts_with(PREFIX) {
            problems.push(format!("{path} (linked from {from}) is outside {PREFIX}"));
            continue;
        }
        requests += 1;
        let r = get(port, &encode(&path));
        if r.status != 200 {
            problems.push(format!("{path}: status {} (linked from {from})", r.status));
            continue;
        }
        let ctype = r.headers.get("content-type").cloned().unwrap_or_default();
        let text = String::from_utf8_lossy(&r.body);
        let links: Vec<String> = if ctype.starts_with("text/html") {
            html_pages += 1;
            let mut l = scan::attr_values(&text, &["href", "src", "action"]);
            // Any other attribute with a URL of the site (data-* for scripts): below the prefix;
            // followed if it names a file (a folder there is a base such as the search bundle's).
            for rest in text.split(&format!("\"{origin}/")).skip(1) {
                let url = format!(
                    "{origin}/{}",
                    scan::unescape(rest.split('"').next().unwrap_or(""))
                );
                if !url.starts_with(&base_url) {
                    problems.push(format!("{path}: URL {url} outside {PREFIX}"));
                } else if !url.ends_with('/') {
                    l.push(url);
                }
            }
            l
        } else if ctype.starts_with("text/css") {
            css_urls(&text)
        } else if path.ends_with("sitemap.xml") {
            scan::sitemap_locs(&text)
        } else if path.ends_with("atom.xml") {
            let mut l = scan::attr_values(&text, &["href"]);
            l.extend(
                text.split("<id>")
                    .skip(1)
                    .filter_map(|s| s.split("</id>").next())
                    .map(scan::unescape),
            );
            l
        } else if path.ends_with("robots.txt") {
            text.lines()
                .filter_map(|l| l.strip_prefix("Sitemap:"))
                .map(|s| s.trim().to_string())
                .collect()
        } else {
            Vec::new()
        };
        for link in links {
            if let Some(target) = resolve(&origin, &path, &link) {
                if seen.insert(target.clone()) {
                    queue.push_back((target, path.clone()));
                }
            } else if link.starts_with("http://127.0.0.1") || link.starts_with("//") {
                problems.push(format!("{path}: link {link} to another port or origin"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems in {requests} requests:\n{}\nnginx error log:\n{}",
        problems.len(),
        problems.join("\n"),
        nginx.log()
    );
    eprintln!("nginx sub-path crawl: {requests} requests, {html_pages} HTML pages, 0 problems");
    // The whole portal was reached: every page of the sitemap and more.
    assert!(html_pages > 90, "only {html_pages} HTML pages reached");
    // Pages, the stylesheet, and the search page with its script where the target has search.
    let mut expected = vec!["style.css"];
    if out.join("suche/index.html").is_file() {
        expected.push("suche/");
    }
    if out.join("search.js").is_file() {
        expected.push("search.js");
    }
    for e in expected {
        assert!(
            seen.contains(&format!("{PREFIX}{e}")),
            "the crawl reached {e}"
        );
    }

    // A missing page: 404 with the site's 404 page.
    let r = get(port, &format!("{PREFIX}gibt-es-nicht/"));
    assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(&r.body));
    let page = std::fs::read(out.join("404.html"))
        .expect("the portal has a 404 page (404.html from the theme)");
    assert!(
        r.body == page,
        "the 404 response is the site's 404.html:\n{}",
        String::from_utf8_lossy(&r.body)
    );
    let text = String::from_utf8_lossy(&page);
    for link in scan::attr_values(&text, &["href", "src"]) {
        if let Some(target) = resolve(&origin, "/anywhere/deep/", &link) {
            assert!(
                target.starts_with(PREFIX),
                "404.html links {link}: it must work at any depth"
            );
        }
    }
    drop(nginx);
}
