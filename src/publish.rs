//! Stage 7: target-specific files around the rendered pages.
//!
//! Takes the rendered [`Output`]s (pages already written by a build come as none) and the site,
//! and returns the outputs plus `sitemap.xml`,
//! `robots.txt` and the Atom feed `atom.xml`; in relative mode (file shares) it rewrites every
//! link to the site into a relative link to `…/index.html`. Only what this target publishes is
//! in the site at this point, so internal pages cannot leak into these files.

use std::path::Path;

use crate::config::{Robots, Settings};
use crate::escape;
use crate::model::{Date, NodeId, Output, Site};

/// Entries in the Atom feed.
const FEED_ENTRIES: usize = 30;

/// `own_files`: output paths the site provides itself (its `static/`); a site's own
/// `robots.txt` or `sitemap.xml` replaces the generated one.
pub(crate) fn publish(
    settings: &Settings,
    site: &Site,
    bodies: &[std::sync::Arc<crate::model::Body>],
    own_files: &[&str],
    mut outputs: Vec<Output>,
    memo: &mut Memo,
) -> Vec<Output> {
    let dates_kept = same_dates(site);
    let sitemap = memo.sitemap(settings, site, dates_kept);
    let feed = feed(settings, site, bodies, memo.feed_picks(site, dates_kept));
    for generated in [sitemap, robots(settings), feed] {
        if !own_files.contains(&&*generated.rel) {
            outputs.push(generated);
        }
    }
    for o in &mut outputs {
        if let Some(bytes) = finish_page(settings, o) {
            o.bytes = std::sync::Arc::new(bytes);
        }
    }
    outputs
}

/// What this target changes in a rendered page: in relative mode, its links to the site.
/// `None`: the page stays as it is.
pub(crate) fn finish_page(settings: &Settings, o: &Output) -> Option<Vec<u8>> {
    if !settings.target.relative || !o.rel.ends_with(".html") {
        return None;
    }
    let text = std::str::from_utf8(&o.bytes).ok()?;
    Some(relativize(text, &settings.base_url, &o.rel).into_bytes())
}

/// A URL on a line of robots.txt: percent-encodes whitespace and control characters, which
/// would otherwise start a new rule.
fn robots_url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn lastmod(date: Option<Date>, updated: Option<Date>) -> Option<Date> {
    match (date, updated) {
        (Some(d), Some(u)) => Some(d.max(u)),
        (d, u) => d.or(u),
    }
}

/// With the site's delta (the last run was a clean one of the same nodes and paths): whether
/// every node the delta swapped kept its dates, so that the sitemap and the feed's choice of
/// pages are the last run's.
fn same_dates(site: &Site) -> bool {
    site.delta.as_ref().is_some_and(|d| {
        d.swapped.iter().all(|(id, old)| {
            let now = &site.nodes[*id].doc.fm;
            lastmod(old.fm.date, old.fm.updated) == lastmod(now.date, now.updated)
        })
    })
}

/// What publish keeps for the next run (the dev server): the sitemap, which lists every page,
/// and the feed's entries.
#[derive(Default)]
pub(crate) struct Memo {
    sitemap: Option<(u64, Output)>,
    feed: Option<Vec<(Date, NodeId)>>,
}

impl Memo {
    /// The feed's entries: the last run's if `dates_kept` ([`same_dates`]), else chosen anew.
    fn feed_picks(&mut self, site: &Site, dates_kept: bool) -> &[(Date, NodeId)] {
        if !dates_kept {
            self.feed = None;
        }
        self.feed.get_or_insert_with(|| newest(site))
    }

    /// The sitemap, the last one if no URL or date in it changed (the settings are the same
    /// for a memo's lifetime).
    fn sitemap(&mut self, settings: &Settings, site: &Site, dates_kept: bool) -> Output {
        if let Some((_, out)) = self.sitemap.as_ref().filter(|_| dates_kept) {
            return out.clone();
        }
        let print = crate::model::fingerprint(
            &site
                .nodes
                .iter()
                .map(|n| (&n.path, lastmod(n.doc.fm.date, n.doc.fm.updated)))
                .collect::<Vec<_>>(),
        );
        if let Some((p, out)) = &self.sitemap {
            if *p == print {
                return out.clone();
            }
        }
        let out = sitemap(settings, site);
        self.sitemap = Some((print, out.clone()));
        out
    }
}

fn sitemap(settings: &Settings, site: &Site) -> Output {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut nodes: Vec<&crate::model::Node> = site.nodes.iter().collect();
    nodes.sort_by(|a, b| a.path.cmp(&b.path));
    // The escape works character by character, so base and path are escaped apart.
    let base = escape::xml(&settings.base_url);
    xml.reserve(nodes.len() * (base.len() + 80));
    for n in nodes {
        xml.push_str("  <url><loc>");
        xml.push_str(&base);
        xml.push_str(&escape::xml(&n.path[1..]));
        xml.push_str("</loc>");
        if let Some(d) = lastmod(n.doc.fm.date, n.doc.fm.updated) {
            xml.push_str(&format!("<lastmod>{}</lastmod>", d.iso()));
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    Output {
        rel: "sitemap.xml".into(),
        bytes: std::sync::Arc::new(xml.into_bytes()),
        source: Path::new("sitemap").into(),
    }
}

fn robots(settings: &Settings) -> Output {
    let text = match settings.target.robots {
        Robots::Allow => format!(
            "User-agent: *\nAllow: /\n\nSitemap: {}sitemap.xml\n",
            robots_url(&settings.base_url)
        ),
        Robots::Disallow => "User-agent: *\nDisallow: /\n".to_string(),
    };
    Output {
        rel: "robots.txt".into(),
        bytes: std::sync::Arc::new(text.into_bytes()),
        source: Path::new("robots").into(),
    }
}

/// The feed's entries: the [`FEED_ENTRIES`] newest changed documents, newest first.
fn newest(site: &Site) -> Vec<(Date, NodeId)> {
    let mut dated: Vec<(Date, NodeId)> = NodeId::all(site.nodes.len())
        .zip(&site.nodes)
        .filter_map(|(i, n)| lastmod(n.doc.fm.date, n.doc.fm.updated).map(|d| (d, i)))
        .collect();
    let newest_first = |a: &(Date, NodeId), b: &(Date, NodeId)| {
        b.0.cmp(&a.0)
            .then(site.nodes[a.1].path.cmp(&site.nodes[b.1].path))
    };
    // The newest entries picked first, then sorted: not a sort of every dated page (paths are
    // unique, so the order is total and the result the same).
    if dated.len() > FEED_ENTRIES {
        dated.select_nth_unstable_by(FEED_ENTRIES - 1, newest_first);
        dated.truncate(FEED_ENTRIES);
    }
    dated.sort_by(newest_first);
    dated
}

/// New and updated pages: the documents with the newest dates (`picks`, [`newest`]).
fn feed(
    settings: &Settings,
    site: &Site,
    bodies: &[std::sync::Arc<crate::model::Body>],
    picks: &[(Date, NodeId)],
) -> Output {
    let stamp = |d: Date| format!("{}T00:00:00Z", d.iso());
    let base = &settings.base_url;
    // A feed without dated pages still needs an `updated`; the Unix epoch says "unknown".
    let updated = picks
        .first()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_string(), |(d, _)| stamp(*d));
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n  <title>{}</title>\n  <id>{}</id>\n  <link rel=\"self\" href=\"{}atom.xml\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n  <updated>{updated}</updated>\n",
        escape::xml(&settings.language),
        escape::xml(&settings.title),
        escape::xml(base),
        escape::xml(base),
        escape::xml(base),
    );
    for &(d, i) in picks {
        let n = &site.nodes[i];
        let url = escape::xml(&format!("{base}{}", &n.path[1..]));
        let summary = if n.doc.fm.description.is_empty() {
            bodies.get(i.index()).map_or("", |b| b.summary.as_str())
        } else {
            &n.doc.fm.description
        };
        xml.push_str(&format!(
            "  <entry>\n    <title>{}</title>\n    <id>{url}</id>\n    <link href=\"{url}\"/>\n    <updated>{}</updated>\n",
            escape::xml(&n.doc.fm.title),
            stamp(d)
        ));
        if let Some(p) = n.doc.fm.date {
            xml.push_str(&format!("    <published>{}</published>\n", stamp(p)));
        }
        if !summary.is_empty() {
            xml.push_str(&format!(
                "    <summary>{}</summary>\n",
                escape::xml(summary)
            ));
        }
        xml.push_str(&format!(
            "    <author><name>{}</name></author>\n  </entry>\n",
            escape::xml(&settings.title)
        ));
    }
    xml.push_str("</feed>\n");
    Output {
        rel: "atom.xml".into(),
        bytes: std::sync::Arc::new(xml.into_bytes()),
        source: Path::new("feed").into(),
    }
}

/// Rewrites every attribute value starting with `base` into a path relative to the page at
/// `rel` (e.g. `a/b/index.html`), pointing at `index.html` for folder URLs, so the site works
/// from `file://` without a server.
pub(crate) fn relativize(html: &str, base: &str, rel: &str) -> String {
    let depth = rel.matches('/').count();
    let up = "../".repeat(depth);
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    loop {
        // The next attribute value (after =" or =') that starts with the base URL.
        let next = ["=\"", "='"]
            .iter()
            .filter_map(|q| rest.find(&format!("{q}{base}")).map(|i| (i, q.len())))
            .min();
        let Some((i, qlen)) = next else {
            out.push_str(rest);
            return out;
        };
        let quote = rest[i + 1..].chars().next().unwrap_or('"');
        out.push_str(&rest[..i + qlen]);
        let value_start = i + qlen + base.len();
        let value_end = rest[value_start..]
            .find(quote)
            .map_or(rest.len(), |e| value_start + e);
        let target = &rest[value_start..value_end];
        let (path, suffix) = match target.find(['#', '?']) {
            Some(k) => (&target[..k], &target[k..]),
            None => (target, ""),
        };
        if has_dot_segment(path) {
            // `base/../../etc/x` leaves the site: relative, it would climb out of the share's
            // folder on the reader's disk, so it stays the absolute URL it was.
            out.push_str(base);
            out.push_str(target);
            rest = &rest[value_end..];
            continue;
        }
        out.push_str(&up);
        out.push_str(path);
        if path.is_empty() || path.ends_with('/') {
            out.push_str("index.html");
        }
        out.push_str(suffix);
        rest = &rest[value_end..];
    }
}

/// Whether a URL path has a `.` or `..` segment, also percent-encoded (`%2e%2e`).
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|seg| {
        let seg = seg.to_ascii_lowercase().replace("%2e", ".");
        seg == "." || seg == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_with_dot_segments_stay_absolute() {
        let base = "https://example.org/p/";
        let html = r#"<a href="https://example.org/p/../../etc/x">a</a><a href="https://example.org/p/a/%2E%2e/b/">b</a><a href="https://example.org/p/a/">c</a>"#;
        assert_eq!(
            relativize(html, base, "x/index.html"),
            r#"<a href="https://example.org/p/../../etc/x">a</a><a href="https://example.org/p/a/%2E%2e/b/">b</a><a href="../a/index.html">c</a>"#
        );
    }

    #[test]
    fn relative_links_point_at_index_files() {
        let base = "https://e.org/portal/";
        let html = r#"<a href="https://e.org/portal/">H</a> <a href="https://e.org/portal/a/b/#x">X</a> <link href='https://e.org/portal/style.css'> <a href="https://other.org/">o</a>"#;
        assert_eq!(
            relativize(html, base, "a/b/c/index.html"),
            r#"<a href="../../../index.html">H</a> <a href="../../../a/b/index.html#x">X</a> <link href='../../../style.css'> <a href="https://other.org/">o</a>"#
        );
        assert_eq!(
            relativize(
                r#"<a href="https://e.org/portal/">H</a>"#,
                base,
                "index.html"
            ),
            r#"<a href="index.html">H</a>"#
        );
    }

    #[test]
    fn robots_values_cannot_break_out() {
        assert_eq!(
            robots_url("https://e.org/\nDisallow: /x/"),
            "https://e.org/%0ADisallow:%20/x/"
        );
    }
}
