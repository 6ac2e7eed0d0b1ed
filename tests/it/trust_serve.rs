//! Issue #11 (trust): serve. The live preview on a copy of `sites/serve` (base URL
//! `https://example.org/portal/`), started and queried as in `serve.rs`:
//!
//! - a rebuild that panics (caused with the test hook `WEGWEISER_TEST_PANIC_ON`)
//!   is reported in the terminal and the overlay, the last good site stays served, and the next
//!   change recovers with a full rebuild;
//! - while no build has succeeded, every page request gets a page listing the errors, which
//!   turns into the site once it builds;
//! - on loopback only requests for loopback host names are answered (DNS rebinding);
//! - only GET and HEAD are answered;
//! - `--base-url` is honoured (its path) or refused when invalid;
//! - no request reaches a file outside the site, also once a served file became a link;
//! - the file watcher does not follow links out of the site, and watches source folders
//!   created later and a `config.toml` replaced by renaming.
//! - a `config.toml` that is broken when serve starts (or becomes broken while it runs) is
//!   shown with its errors (config.toml:line:col, hint) until it is fixed; a base path changed
//!   in it is served at once, and open tabs follow; usage errors still end serve (exit 2).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::bad_input::symlink;
use crate::harness::SiteTest;
use crate::serve::{
    apfel, raw_request, Response, Serve, APFEL, APFEL_URL, BIRNE, BIRNE_URL, EDIT_LIMIT, OBST_URL,
};

const PANIC_HOOK: &str = "WEGWEISER_TEST_PANIC_ON";

/// `wegweiser ARGS` in the site, which must end by itself within 20 s (a flag that is
/// silently accepted would start a server that runs forever): exit code and stderr.
fn run_ending(site: &SiteTest, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wegweiser"))
        .args(args)
        .current_dir(site.root())
        .env_clear()
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run wegweiser");
    let started = Instant::now();
    while child.try_wait().expect("wait for wegweiser").is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wegweiser output");
            panic!(
                "wegweiser {args:?} did not end within 20 s:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("wegweiser output");
    let code = out.status.code().expect("wegweiser was killed by a signal");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A request with this method, target and `Host` header (none if `host` is empty).
fn send(serve: &Serve, method: &str, target: &str, host: &str) -> Response {
    let host = if host.is_empty() {
        String::new()
    } else {
        format!("Host: {host}\r\n")
    };
    let head = format!("{method} {target} HTTP/1.1\r\n{host}Content-Length: 0\r\n");
    raw_request(serve.addr(), &head, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{method} {target}: {e}\nserver log:\n{}", serve.log()))
}

#[track_caller]
fn assert_running(serve: &mut Serve) {
    let status = serve.child.try_wait().expect("wait for the server");
    assert!(
        status.is_none(),
        "wegweiser serve ended ({status:?}):\n{}",
        serve.log()
    );
}

// ---------------------------------------------------------------------------------------------
// 1. A rebuild that panics.

#[test]
fn a_panic_in_an_incremental_rebuild_keeps_the_last_good_site_and_the_next_change_recovers() {
    let site = SiteTest::new("serve");
    let mut serve = Serve::start_with_env(&site, &[], &[(PANIC_HOOK, "apfel.md")]);
    assert_eq!(serve.get(APFEL_URL).content(), "<p>Ein Apfel am Tag.</p>");

    // A body edit is an incremental update; the hook panics after it changed the site.
    site.write(APFEL, apfel("Apfel", "\"Kernobst\"", "Neue Fassung."));
    let broken = serve.wait_for(APFEL_URL, "the internal error", |r| !r.errors().is_empty());
    assert_running(&mut serve);
    assert_eq!(broken.status, 200);
    assert_eq!(
        broken.content(),
        "<p>Ein Apfel am Tag.</p>",
        "the last good page"
    );
    assert_eq!(
        broken.errors(),
        [
            "internal error while rebuilding after a change to content/obst/apfel.md; please \
          report it: panic: test hook WEGWEISER_TEST_PANIC_ON=apfel.md"
        ]
    );
    assert_eq!(serve.get(OBST_URL).errors(), broken.errors());
    let log = serve.log();
    assert!(
        log.contains(
            "error: internal error while rebuilding after a change to content/obst/apfel.md; \
             please report it\ncaused by: panic: test hook WEGWEISER_TEST_PANIC_ON=apfel.md\n"
        ),
        "{log}"
    );

    // Any next change rebuilds everything from the files, the panicked one included.
    site.write(BIRNE, "+++\ntitle = \"Birne\"\n+++\nBirne neu.\n");
    let fixed = serve.wait_for(BIRNE_URL, "the recovered site", |r| {
        r.content() == "<p>Birne neu.</p>"
    });
    assert_eq!(fixed.errors(), Vec::<String>::new());
    let apfel_page = serve.get(APFEL_URL);
    assert_eq!(apfel_page.content(), "<p>Neue Fassung.</p>");
    assert_eq!(apfel_page.errors(), Vec::<String>::new());
    assert_running(&mut serve);
    crate::serve::assert_served_like_a_full_build(
        &site,
        &serve,
        "the recovery",
        &mut Default::default(),
    );
}

#[test]
fn a_panic_in_a_full_rebuild_keeps_the_last_good_site_and_the_next_change_recovers() {
    let site = SiteTest::new("serve");
    let mut serve = Serve::start_with_env(&site, &[], &[(PANIC_HOOK, "config.toml")]);
    let good = serve.get(APFEL_URL);
    assert_eq!(good.status, 200);

    // A config change is a full rebuild.
    let config = site.file("config.toml");
    site.write("config.toml", config.replace("Vorschau", "Vorschau neu"));
    let broken = serve.wait_for(APFEL_URL, "the internal error", |r| !r.errors().is_empty());
    assert_running(&mut serve);
    assert_eq!(broken.content(), good.content());
    assert_eq!(
        broken.errors(),
        [
            "internal error while rebuilding after a change to config.toml; please report it: \
          panic: test hook WEGWEISER_TEST_PANIC_ON=config.toml"
        ]
    );

    site.write(APFEL, apfel("Apfel", "\"Kernobst\"", "Wieder da."));
    let fixed = serve.wait_for(APFEL_URL, "the recovered site", |r| {
        r.content() == "<p>Wieder da.</p>"
    });
    assert_eq!(fixed.errors(), Vec::<String>::new());
    assert_running(&mut serve);
    crate::serve::assert_served_like_a_full_build(
        &site,
        &serve,
        "the recovery",
        &mut Default::default(),
    );
}

#[test]
fn a_template_that_includes_itself_does_not_end_the_server() {
    let site = SiteTest::new("serve");
    let mut serve = Serve::start(&site, &[]);
    site.write("templates/page.html", "{% include \"page.html\" %}");
    let broken = serve.wait_for(APFEL_URL, "the template error", |r| !r.errors().is_empty());
    assert_running(&mut serve);
    assert_eq!(broken.content(), "<p>Ein Apfel am Tag.</p>");
    assert!(
        broken.errors()[0].starts_with("templates/page.html:1:"),
        "{:?}",
        broken.errors()
    );
    std::fs::remove_file(site.root().join("templates/page.html")).unwrap();
    site.write(APFEL, apfel("Apfel", "\"Kernobst\"", "Wieder da."));
    serve.wait_for(APFEL_URL, "the recovered site", |r| {
        r.content() == "<p>Wieder da.</p>" && r.errors().is_empty()
    });
}

// ---------------------------------------------------------------------------------------------
// 2. The first build fails.

/// The error page with the live-reload tag's version (which counts rebuilds) as `N`.
fn error_page(r: &Response) -> String {
    let version = r.version();
    r.body
        .replace(&format!("data-version=\"{version}\""), "data-version=\"N\"")
}

/// Two errors in two files, before the server starts.
fn break_two_pages(site: &SiteTest) {
    site.write(
        APFEL,
        "+++\ntitle = \"Apfel\nsuchworte = [\"Kernobst\"]\n+++\nKaputt.\n",
    );
    site.write(
        BIRNE,
        "+++\ntitle = \"Birne\"\ntitle = \"Noch einmal Birne\"\n+++\nBirne.\n",
    );
}

#[test]
fn when_the_first_build_fails_every_page_shows_all_errors_until_it_builds() {
    let site = SiteTest::new("serve");
    break_two_pages(&site);
    let mut serve = Serve::start(&site, &[]);
    let page = serve.get(APFEL_URL);
    assert_eq!(page.status, 500);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    // The test theme has no texts for it: the tool's own words.
    insta::assert_snapshot!(error_page(&page));
    // Every page, and any other path below the site that a browser would show.
    for target in [
        OBST_URL,
        "/portal/",
        "/portal/gibt-es-nicht/",
        "/portal/x.html",
        "/ausserhalb/",
    ] {
        let r = serve.get(target);
        assert_eq!(
            (r.status, error_page(&r)),
            (500, error_page(&page)),
            "{target}"
        );
    }
    assert_eq!(serve.get("/portal/robots.txt").status, 404);
    assert!(
        serve
            .log()
            .contains("build failed; serving the errors until it succeeds"),
        "{}",
        serve.log()
    );

    // A tab on the error page learns of every change; once the site builds, it is served.
    let v = page.version();
    site.write(APFEL, apfel("Apfel", "\"Kernobst\"", "Repariert."));
    let state = serve.poll(v, EDIT_LIMIT).expect("poll answers");
    assert!(state.version > v);
    assert_eq!(state.errors.len(), 1, "{:?}", state.errors);
    site.write(BIRNE, "+++\ntitle = \"Birne\"\n+++\nBirne.\n");
    let fixed = serve.wait_for(APFEL_URL, "the site", |r| r.status == 200);
    assert_eq!(fixed.content(), "<p>Repariert.</p>");
    assert_eq!(fixed.errors(), Vec::<String>::new());
    assert_running(&mut serve);
}

#[test]
fn the_first_build_error_page_speaks_the_themes_language() {
    let site = SiteTest::new("serve");
    let i18n = "themes/test/i18n/de.toml";
    let strings = site.file(i18n);
    site.write(
        i18n,
        format!(
            "{strings}preview_error_title = \"Die Vorschau ist nicht verfügbar\"\n\
             preview_error_text = \"Bitte <beheben> Sie diese Fehler.\"\n"
        ),
    );
    break_two_pages(&site);
    let serve = Serve::start(&site, &[]);
    let page = serve.get(APFEL_URL);
    assert_eq!(page.status, 500);
    let body = error_page(&page);
    assert!(
        body.starts_with("<!DOCTYPE html>\n<html lang=\"de\">\n"),
        "{body}"
    );
    assert!(
        body.contains("<title>Die Vorschau ist nicht verfügbar</title>"),
        "{body}"
    );
    assert!(
        body.contains("<h1>Die Vorschau ist nicht verfügbar</h1>\n<p>Bitte &lt;beheben&gt; Sie diese Fehler.</p>"),
        "{body}"
    );
}

#[test]
fn the_default_theme_has_the_error_page_texts() {
    let de = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/i18n/de.toml"),
    )
    .unwrap();
    let strings: std::collections::BTreeMap<String, String> = toml::from_str(&de).unwrap();
    for key in ["preview_error_title", "preview_error_text"] {
        assert!(strings.get(key).is_some_and(|s| !s.is_empty()), "{key}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. The Host header.

#[test]
fn on_loopback_only_requests_for_loopback_host_names_are_answered() {
    let site = SiteTest::new("serve");
    let mut serve = Serve::start(&site, &[]);
    let port = serve.port;
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        "localhost".to_string(),
        format!("vorschau.localhost:{port}"),
        format!("127.0.0.2:{port}"),
        format!("[::1]:{port}"),
    ] {
        let r = send(&serve, "GET", APFEL_URL, &host);
        assert_eq!((r.status, r.line("title")), (200, Some("Apfel")), "{host}");
    }
    let foreign = [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        format!("192.168.1.10:{port}"),
        format!("[fe80::1]:{port}"),
        format!("localhost:{port}:{port}"),
    ];
    for host in &foreign {
        for target in [
            APFEL_URL,
            "/",
            "/__wegweiser/live.js",
            "/__wegweiser/poll?v=0",
        ] {
            let r = send(&serve, "GET", target, host);
            assert_eq!(r.status, 403, "{host} {target}: {}", r.body);
            assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
            assert!(!r.body.contains("Apfel"), "{host} {target}: {}", r.body);
        }
    }
    let refused = send(&serve, "GET", APFEL_URL, "evil.example:1111").body;
    insta::assert_snapshot!(refused.replace(&format!(":{port}/"), ":[PORT]/"));
    // Without a Host header (HTTP/1.0 tools) there is no name a rebinding could have used.
    assert_eq!(send(&serve, "GET", APFEL_URL, "").status, 200);
    // Two Host headers are refused outright.
    let head =
        format!("GET {APFEL_URL} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n");
    let r = raw_request(serve.addr(), &head, Duration::from_secs(10)).unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    assert_running(&mut serve);
}

#[test]
fn bound_to_another_address_any_host_name_is_answered() {
    let site = SiteTest::new("serve");
    // Listens on every address; the test talks to 127.0.0.1 only.
    let serve = Serve::start(&site, &["--bind", "0.0.0.0"]);
    for host in ["evil.example", "vorschau.intranet.example:8080", "10.1.2.3"] {
        let r = send(&serve, "GET", APFEL_URL, host);
        assert_eq!((r.status, r.line("title")), (200, Some("Apfel")), "{host}");
    }
    assert!(
        serve.log().contains(
            "note: listening on 0.0.0.0, reachable from other machines; requests for any host \
             name are answered"
        ),
        "{}",
        serve.log()
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Methods.

#[test]
fn only_get_and_head_are_answered() {
    let site = SiteTest::new("serve");
    let mut serve = Serve::start(&site, &[]);
    let host = format!("127.0.0.1:{}", serve.port);
    let before = site.file(APFEL);
    for method in [
        "PUT", "DELETE", "POST", "PATCH", "OPTIONS", "TRACE", "PROPFIND",
    ] {
        for target in [
            APFEL_URL,
            "/portal/robots.txt",
            "/",
            "/__wegweiser/live.js",
            "/__wegweiser/poll?v=0",
        ] {
            let r = send(&serve, method, target, &host);
            assert_eq!(r.status, 405, "{method} {target}: {}", r.body);
            assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method} {target}");
            assert_eq!(
                r.body,
                format!("method {method} not allowed: wegweiser serve only answers GET, HEAD\n")
            );
        }
    }
    assert_eq!(site.file(APFEL), before);

    let get = send(&serve, "GET", APFEL_URL, &host);
    let head = send(&serve, "HEAD", APFEL_URL, &host);
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "", "HEAD has no body");
    assert_eq!(
        head.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    assert_eq!(send(&serve, "HEAD", "/__wegweiser/live.js", &host).body, "");
    assert_running(&mut serve);
}

// ---------------------------------------------------------------------------------------------
// 5. --base-url.

#[test]
fn serve_base_url_sets_the_path_the_site_is_served_below() {
    let site = SiteTest::new("serve");
    let serve = Serve::start(&site, &["--base-url", "https://intranet.example/vorschau/"]);
    let port = serve.port;
    let page = serve.get("/vorschau/obst/apfel/");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.line("permalink"),
        Some(format!("http://127.0.0.1:{port}/vorschau/obst/apfel/").as_str())
    );
    assert_eq!(serve.get(APFEL_URL).status, 404, "the configured path");
    let root = serve.get("/");
    assert_eq!(root.status, 302);
    assert_eq!(root.header("location"), Some("/vorschau/"));
    assert!(
        serve
            .log()
            .contains(&format!("serving on http://127.0.0.1:{port}/vorschau/ ")),
        "{}",
        serve.log()
    );
}

#[test]
fn serve_refuses_an_invalid_base_url_and_json_output() {
    let site = SiteTest::new("serve");
    let (code, stderr) = run_ending(&site, &["serve", "--port", "0", "--base-url", "ftp://x/"]);
    assert_eq!(code, 2, "{stderr}");
    insta::assert_snapshot!("invalid_base_url", stderr);
    let (code, stderr) = run_ending(&site, &["serve", "--port", "0", "--format", "json"]);
    assert_eq!(code, 2, "{stderr}");
    insta::assert_snapshot!("json_format", stderr);
}

// ---------------------------------------------------------------------------------------------
// 6. Requests that try to leave the site.

#[test]
fn malformed_and_oversized_requests_are_refused_and_the_server_stays() {
    let site = SiteTest::new("serve");
    let mut serve = Serve::start(&site, &[]);
    // `%+f` is not an escape (Rust's number parser would take the sign).
    for target in [
        "/portal/%+f",
        "/portal/%-1/",
        "/portal/obst/%+2e%+2e/",
        "/portal/% 1",
    ] {
        assert_eq!(serve.get(target).status, 400, "{target}");
    }
    let long = format!("/portal/{}", "a".repeat(20_000));
    let r = serve.get(&long);
    assert_eq!(r.status, 414, "{}", r.body);
    // A big header block is read and answered, not fatal.
    let head = format!(
        "GET {APFEL_URL} HTTP/1.1\r\nHost: {}\r\nX-Gross: {}\r\n",
        serve.addr(),
        "b".repeat(200_000)
    );
    let r = raw_request(serve.addr(), &head, Duration::from_secs(10)).unwrap();
    assert_eq!(r.status, 200);
    // A folder without its slash is sent to the folder, an encoded slash included.
    let r = serve.get("/portal/obst");
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("/portal/obst/"))
    );
    let r = serve.get("/portal/obst%2fapfel");
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("/portal/obst%2fapfel/"))
    );
    // No redirect to another host (`//host` is a URL without a scheme).
    for target in [
        "//evil.example",
        "//evil.example/",
        "/%2f%2fevil.example",
        "/portal//evil",
    ] {
        let r = serve.get(target);
        assert_eq!(r.status, 404, "{target}: {:?}", r.header("location"));
    }
    assert_running(&mut serve);
    assert_eq!(serve.get(APFEL_URL).line("title"), Some("Apfel"));
}

#[cfg(unix)]
#[test]
fn a_served_file_that_became_a_link_outside_the_site_is_not_served() {
    let site = SiteTest::new("serve");
    let secret = site.root().parent().unwrap().join("geheim.txt");
    std::fs::write(&secret, "GEHEIM-DANEBEN\n").unwrap();
    site.write("static/info.txt", "Öffnungszeiten\n");
    let serve = Serve::start(&site, &[]);
    let info = "/portal/info.txt";
    assert_eq!(serve.get(info).body, "Öffnungszeiten\n");
    let before = serve.get(APFEL_URL).version();

    // The file becomes a link to a file beside the site; the rebuild may accept or refuse it.
    std::fs::remove_file(site.root().join("static/info.txt")).unwrap();
    symlink(&secret, site.root().join("static/info.txt"));
    serve.wait_for(APFEL_URL, "the rebuild", |r| r.version() > before);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        let r = serve.get(info);
        assert!(!r.body.contains("GEHEIM"), "{}: {}", r.status, r.body);
        assert_eq!(r.status, 404);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        serve
            .log()
            .contains("warning: not serving static/info.txt: it now leads outside the site"),
        "{}",
        serve.log()
    );
}

#[cfg(unix)]
#[test]
fn the_watcher_does_not_follow_links_out_of_the_site() {
    let site = SiteTest::new("serve");
    let outside = site.root().parent().unwrap().join("anderswo");
    for i in 0..50 {
        std::fs::create_dir_all(outside.join(format!("ordner-{i}"))).unwrap();
    }
    symlink(&outside, site.root().join("content/anderswo"));
    let mut serve = Serve::start(&site, &[]);
    let version = serve.get(APFEL_URL).version();
    // A change out there is no change to the site: no rebuild.
    std::fs::write(
        outside.join("ordner-7/neu.md"),
        "+++\ntitle = \"Neu\"\n+++\n",
    )
    .unwrap();
    let state = serve.poll(version, Duration::from_millis(1500));
    assert!(
        state.is_none(),
        "a change outside the site started a rebuild: {state:?}\n{}",
        serve.log()
    );
    assert_running(&mut serve);
}

#[test]
fn an_editors_svg_asset_never_runs_script_on_the_preview() {
    let site = SiteTest::new("serve");
    site.write(
        "content/obst/quitte/index.md",
        "+++\ntitle = \"Quitte\"\n+++\nText.\n",
    );
    let svg = "content/obst/quitte/bild.svg";
    let target = "/portal/obst/quitte/bild.svg";
    site.write(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>\n",
    );
    let serve = Serve::start(&site, &[]);
    assert_eq!(serve.get(target).status, 200);
    let version = serve.get(APFEL_URL).version();

    // Served files are read when asked for: the rebuild refuses the new version and keeps the
    // last good list of files to serve, with this one on it.
    site.write(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\">\
         <script>alert(2)</script></svg>\n",
    );
    serve.wait_for(APFEL_URL, "the rebuild", |r| r.version() > version);
    // The file is read when asked for, so the new version is what goes out: sandboxed.
    let r = serve.get(target);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<script>alert(2)</script>"), "{}", r.body);
    assert_eq!(r.header("content-security-policy"), Some("sandbox"));
    // The theme's and publisher's own files are not sandboxed.
    let robots = serve.get("/portal/robots.txt");
    assert_eq!(robots.status, 200);
    assert_eq!(robots.header("content-security-policy"), None);
}

#[test]
fn a_source_folder_created_later_and_a_replaced_config_are_watched() {
    let site = SiteTest::new("serve");
    assert!(!site.exists("templates"));
    let mut serve = Serve::start(&site, &[]);
    site.write("templates/page.html", "eigene Vorlage: {{ page.title }}\n");
    serve.wait_for(APFEL_URL, "the new template", |r| {
        r.body.starts_with("eigene Vorlage: Apfel")
    });
    // Editors save by writing a new file and renaming it over the old one, more than once.
    for title in ["Vorschau eins", "Vorschau zwei"] {
        let version = serve.get(APFEL_URL).version();
        let config = site.file("config.toml");
        let start = config.find("title = ").unwrap();
        let end = start + config[start..].find('\n').unwrap();
        let new = format!("{}title = \"{title}\"{}", &config[..start], &config[end..]);
        site.write("config.toml.neu", new);
        std::fs::rename(
            site.root().join("config.toml.neu"),
            site.root().join("config.toml"),
        )
        .unwrap();
        let state = serve.poll(version, EDIT_LIMIT);
        assert!(
            state.is_some_and(|s| s.version > version),
            "{title}: no rebuild\n{}",
            serve.log()
        );
    }
    assert_running(&mut serve);
}

// ---------------------------------------------------------------------------------------------
// 7. A broken `config.toml`.

/// `config.toml` of `sites/serve` with `from` replaced by `to` (which must occur once).
fn config_with(site: &SiteTest, from: &str, to: &str) -> String {
    let config = site.file("config.toml");
    assert_eq!(config.matches(from).count(), 1, "{from:?} in:\n{config}");
    config.replacen(from, to, 1)
}

/// Broken configurations: name, text, where their error is, and whether the base URL can
/// still be read (a theme's problems are found after the configuration is read).
fn broken_configs(site: &SiteTest) -> Vec<(&'static str, String, &'static str, bool)> {
    let theme = "theme = \"test\"";
    vec![
        (
            "syntax",
            config_with(site, "\"Vorschau\"", "\"Vorschau"),
            "config.toml:1:18",
            false,
        ),
        (
            "unknown_key",
            config_with(site, theme, "theme = \"test\"\nsuche = 1"),
            "config.toml:6:1",
            false,
        ),
        (
            "base_url",
            config_with(site, "https://example.org/portal/", "ftp://example.org/"),
            "config.toml:4:12",
            false,
        ),
        (
            "hostile_base_url",
            config_with(
                site,
                "https://example.org/portal/",
                "https://example.org/</style><svg/onload=alert(1)>/",
            ),
            "config.toml:4:12",
            false,
        ),
        (
            "theme",
            config_with(site, theme, "theme = \"fehlt\""),
            "config.toml:5:9",
            true,
        ),
        (
            "i18n",
            config_with(site, theme, "theme = \"test\"\nlanguage = \"fr\""),
            "config.toml:6:12",
            true,
        ),
    ]
}

#[test]
fn a_config_broken_when_serve_starts_shows_its_errors_until_it_is_fixed() {
    for (name, config, at, readable) in broken_configs(&SiteTest::new("serve")) {
        let site = SiteTest::new("serve");
        let good = site.file("config.toml");
        site.write("config.toml", &config);
        let mut serve = Serve::start(&site, &[]);
        let port = serve.port;
        assert_running(&mut serve);
        // Every page shows the error, below the configured path or, while the base URL cannot
        // be read, below `/`.
        let page = serve.get(APFEL_URL);
        assert_eq!(page.status, 500, "{name}: {}", page.body);
        let body = error_page(&page);
        assert!(
            body.contains(&format!("<li><pre>{at}: error: ")),
            "{name}: {body}"
        );
        insta::assert_snapshot!(format!("broken_config_{name}"), body);
        // Only the live-reload script: the configuration's text is shown, never run.
        assert_eq!(body.matches("<script").count(), 1, "{name}: {body}");
        assert!(!body.contains("<svg"), "{name}: {body}");
        for target in ["/obst/apfel/", "/portal/"] {
            let r = serve.get(target);
            assert_eq!(
                (r.status, error_page(&r)),
                (500, body.clone()),
                "{name} {target}"
            );
        }
        let (prefix, root_status) = if readable {
            ("/portal/", 302)
        } else {
            ("/", 500)
        };
        assert_eq!(serve.get("/").status, root_status, "{name}");
        let log = serve.log();
        let serving = format!("serving on http://127.0.0.1:{port}{prefix} (Ctrl+C");
        assert!(log.contains(&serving), "{name}: {log}");

        // Fixed: the site, below its configured path; a tab left on the old path follows.
        site.write("config.toml", &good);
        let fixed = serve.wait_for(APFEL_URL, "the site", |r| r.status == 200);
        assert_eq!(fixed.content(), "<p>Ein Apfel am Tag.</p>", "{name}");
        assert_eq!(fixed.errors(), Vec::<String>::new(), "{name}");
        assert_eq!(
            fixed.line("permalink"),
            Some(format!("http://127.0.0.1:{port}{APFEL_URL}").as_str())
        );
        let old = serve.get("/obst/apfel/");
        let log = serve.log();
        let moved = format!(
            "the base URL's path changed: now serving on http://127.0.0.1:{port}/portal/\n"
        );
        if readable {
            assert_eq!(old.status, 404, "{name}");
            assert!(!log.contains(&moved), "{name}: {log}");
        } else {
            assert_eq!(old.status, 302, "{name}");
            assert_eq!(old.header("location"), Some(APFEL_URL), "{name}");
            assert!(log.contains(&moved), "{name}: {log}");
        }
        assert_running(&mut serve);
    }
}

#[test]
fn a_config_broken_at_start_is_served_below_the_base_url_flags_path() {
    let site = SiteTest::new("serve");
    let good = site.file("config.toml");
    site.write("config.toml", format!("{good}suche = 1\n"));
    let serve = Serve::start(&site, &["--base-url", "https://intranet.example/vorschau/"]);
    let port = serve.port;
    let page = serve.get("/vorschau/obst/apfel/");
    assert_eq!(page.status, 500);
    assert!(page
        .body
        .contains("<li><pre>config.toml:6:1: error: unknown key `suche`"));
    let root = serve.get("/");
    assert_eq!(root.status, 302);
    assert_eq!(root.header("location"), Some("/vorschau/"));
    site.write("config.toml", &good);
    let fixed = serve.wait_for("/vorschau/obst/apfel/", "the site", |r| r.status == 200);
    assert_eq!(
        fixed.line("permalink"),
        Some(format!("http://127.0.0.1:{port}/vorschau/obst/apfel/").as_str())
    );
    assert!(!serve.log().contains("path changed"), "{}", serve.log());
}

#[test]
fn a_config_broken_while_serving_keeps_the_last_good_site_with_its_errors() {
    for (name, config, at, _) in broken_configs(&SiteTest::new("serve")) {
        let site = SiteTest::new("serve");
        let good = site.file("config.toml");
        let mut serve = Serve::start(&site, &[]);
        assert_eq!(serve.get(APFEL_URL).content(), "<p>Ein Apfel am Tag.</p>");
        site.write("config.toml", &config);
        let broken = serve.wait_for(APFEL_URL, "the error", |r| !r.errors().is_empty());
        assert_running(&mut serve);
        assert_eq!(broken.status, 200, "{name}");
        assert_eq!(broken.content(), "<p>Ein Apfel am Tag.</p>", "{name}");
        let errors = broken.errors();
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        assert!(
            errors[0].starts_with(&format!("{at}: error: ")),
            "{name}: {errors:?}"
        );
        assert!(
            serve
                .log()
                .contains("rebuild failed; still serving the last good version"),
            "{name}: {}",
            serve.log()
        );
        site.write("config.toml", &good);
        let fixed = serve.wait_for(APFEL_URL, "the fixed site", |r| r.errors().is_empty());
        assert_eq!(fixed.content(), "<p>Ein Apfel am Tag.</p>", "{name}");
        assert_running(&mut serve);
    }
}

#[test]
fn a_base_path_changed_while_serving_is_served_at_once_and_open_tabs_follow() {
    let site = SiteTest::new("serve");
    let mut serve = Serve::start(&site, &[]);
    let port = serve.port;
    let config = config_with(&site, "/portal/", "/neu/");
    site.write("config.toml", config);
    let moved = serve.wait_for("/neu/obst/apfel/", "the new path", |r| r.status == 200);
    assert_eq!(
        moved.line("permalink"),
        Some(format!("http://127.0.0.1:{port}/neu/obst/apfel/").as_str())
    );
    assert_eq!(moved.content(), "<p>Ein Apfel am Tag.</p>");
    let old = serve.get(&format!("{APFEL_URL}?x=1"));
    assert_eq!(old.status, 302);
    assert_eq!(old.header("location"), Some("/neu/obst/apfel/"));
    let root = serve.get("/");
    assert_eq!(root.header("location"), Some("/neu/"));
    assert!(
        serve.log().contains(&format!(
            "the base URL's path changed: now serving on http://127.0.0.1:{port}/neu/\n"
        )),
        "{}",
        serve.log()
    );
    // An incremental update after the move renders links below the new path too.
    site.write(APFEL, apfel("Apfel", "\"Kernobst\"", "Neu."));
    let updated = serve.wait_for("/neu/obst/apfel/", "the edit", |r| {
        r.content() == "<p>Neu.</p>"
    });
    assert_eq!(updated.line("permalink"), moved.line("permalink"));

    // Up to the root: the old path is below the new one, and still followed.
    site.write("config.toml", config_with(&site, "/neu/", "/"));
    let at_root = serve.wait_for("/obst/apfel/", "the root path", |r| r.status == 200);
    assert_eq!(at_root.content(), "<p>Neu.</p>");
    let old = serve.get("/neu/obst/apfel/");
    assert_eq!(old.status, 302);
    assert_eq!(old.header("location"), Some("/obst/apfel/"));
    assert_eq!(serve.get("/gibt-es-nicht/").status, 404);
    assert_running(&mut serve);
}

#[test]
fn usage_errors_end_serve_before_it_starts_even_with_a_broken_config() {
    let site = SiteTest::new("serve");
    let good = site.file("config.toml");
    site.write("config.toml", format!("{good}suche = 1\n"));
    let (code, stderr) = run_ending(&site, &["serve", "--port", "0", "--root", "fehlt"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: --root `fehlt` does not exist\n"),
        "{stderr}"
    );
    site.write("config.toml", &good);
    let (code, stderr) = run_ending(&site, &["serve", "--port", "0", "--target", "fehlt"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: unknown target `fehlt`"),
        "{stderr}"
    );
}

#[test]
fn a_folder_without_config_is_no_site_and_serve_ends() {
    let site = SiteTest::new("serve");
    site.remove("config.toml");
    let (code, stderr) = run_ending(&site, &["serve", "--port", "0"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "config.toml: error: cannot read the site configuration: No such file or directory"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("= hint: run wegweiser in the site's root folder or pass --root DIR"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_config_that_is_a_named_pipe_at_start_is_shown_as_an_error_until_replaced() {
    let site = SiteTest::new("serve");
    let good = site.file("config.toml");
    site.remove("config.toml");
    let ok = Command::new("mkfifo")
        .arg(site.root().join("config.toml"))
        .status()
        .expect("run mkfifo");
    assert!(ok.success());
    let mut serve = Serve::start(&site, &[]);
    let page = serve.get("/");
    assert_eq!(page.status, 500, "{}", page.body);
    assert!(page.body.contains("<li><pre>config.toml"), "{}", page.body);
    assert_running(&mut serve);
    // Writing into the pipe would block: replace it.
    site.remove("config.toml");
    site.write("config.toml", good);
    let fixed = serve.wait_for(APFEL_URL, "the site", |r| r.status == 200);
    assert_eq!(fixed.content(), "<p>Ein Apfel am Tag.</p>");
    assert_running(&mut serve);
}
