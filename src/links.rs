//! Stage 4: Markdown of every document, with internal links resolved and checked.
//!
//! Takes the resolved [`Site`] and returns one [`Body`] per node: HTML, table of contents,
//! rendered Markdown fields and backlinks. `@/path.md#anchor` and relative `.md` links become
//! page URLs; a missing page or anchor is an error at the link's line and column.

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{did_you_mean, Diagnostic};
use crate::markdown::{self, Highlighter, LinkError, LinkResolver, Rendered};
use crate::model::{Body, Document, FieldValue, KeywordId, LinkTarget, NodeId, Site};
use crate::parse::parent_dir;

/// Resolves link destinations written in the document at `rel`.
struct Resolver<'a> {
    site: &'a Site,
    base_url: &'a str,
    rel: &'a str,
}

impl<'a> Resolver<'a> {
    /// The resolver for links written in node `id`.
    fn of(site: &'a Site, env: &Env<'a>, id: NodeId) -> Self {
        Resolver {
            site,
            base_url: env.base_url,
            rel: &site.nodes[id].doc.src.rel,
        }
    }

    fn target(&self, source_path: &str, anchor: Option<&str>) -> Result<LinkTarget, LinkError> {
        let source_path = &crate::slug::nfc(source_path);
        match self.site.by_rel.get(source_path.as_str()) {
            Some(&id) => {
                let node = &self.site.nodes[id];
                let mut url = format!("{}{}", self.base_url, &node.path[1..]);
                if let Some(a) = anchor {
                    url.push('#');
                    url.push_str(a);
                }
                Ok(LinkTarget {
                    url,
                    page: id,
                    anchor: anchor.map(str::to_string),
                })
            }
            None if self.site.intern_excluded.contains(source_path) => Err(LinkError {
                message: format!(
                    "link to internal content: content/{source_path} is intern and left out of this build"
                ),
                hint: Some(
                    "a public page must not link to intranet-only content; remove the link or mark this page intern = true"
                        .into(),
                ),
            }),
            None => {
                let hint = if self.site.drafts.contains(source_path) {
                    "that page is a draft and not part of this build (build with --drafts, or remove the link)".to_string()
                } else {
                    // Sorted: with a tie in distance the hint must not follow the hash
                    // map's order (it differed between runs).
                    let mut known: Vec<&str> = self.site.by_rel.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    did_you_mean(source_path, known).unwrap_or_else(|| {
                        "link to a file below content/, e.g. [Text](@/initiativen/_index.md)".into()
                    })
                };
                Err(LinkError {
                    message: format!(
                        "link to a missing page: `{source_path}` does not exist in content/"
                    ),
                    hint: Some(hint),
                })
            }
        }
    }
}

impl LinkResolver for Resolver<'_> {
    fn resolve(&self, dest: &str) -> Result<Option<LinkTarget>, LinkError> {
        let (path, anchor) = match dest.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (dest, None),
        };
        if let Some(p) = path.strip_prefix("@/") {
            return self.target(p, anchor).map(Some);
        }
        if let (Some(a), "") = (anchor, path) {
            // `#anker`: a link on the same page, checked like any other anchor.
            return Ok(self.site.by_rel.get(self.rel).map(|&page| LinkTarget {
                url: dest.to_string(),
                page,
                anchor: Some(a.to_string()),
            }));
        }
        let external = dest.contains("://")
            || dest.starts_with("//")
            || dest.starts_with('/')
            || dest.starts_with('#')
            || markdown::url_scheme(dest).is_some();
        if external || !path.ends_with(".md") {
            return Ok(None);
        }
        // A relative link to a Markdown file, from the folder of the linking file.
        let mut parts: Vec<&str> = parent_dir(self.rel)
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        for seg in path.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(LinkError {
                            message: format!("link `{dest}` points outside content/"),
                            hint: Some(
                                "use a path below content/, e.g. @/initiativen/_index.md".into(),
                            ),
                        });
                    }
                }
                s => parts.push(s),
            }
        }
        self.target(&parts.join("/"), anchor).map(Some)
    }
}

/// What rendering Markdown needs besides the site.
pub(crate) struct Env<'a> {
    pub base_url: &'a str,
    pub opts: markdown::Options,
    pub hl: &'a Highlighter,
    /// The config's `[extra]` table, for `{{ extra.key }}` placeholders.
    pub extra: &'a toml::Table,
}

/// Replaces `{{ extra.key }}` in rendered HTML with the config's `[extra]` value, so publisher
/// data (address, contacts) live in one place. Unknown keys are errors at their place in `src`.
fn fill_placeholders(
    html: String,
    env: &Env<'_>,
    doc: &crate::model::Document,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> String {
    const OPEN: &str = "{{ extra.";
    if !html.contains(OPEN) {
        return html;
    }
    let html = html.as_str();
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut errors = PlaceholderErrors {
        doc,
        text,
        cursor: doc.body_offset,
        places: None,
    };
    let mut tag = TagState::default();
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        tag.feed(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = after[..end].trim();
        let placeholder = &rest[start..start + OPEN.len() + end + 2];
        match env.extra.get(key).and_then(toml::Value::as_str) {
            Some(_) if tag.inside() => {
                diags.push(errors.inside_tag(key, placeholder));
                out.push_str(placeholder);
            }
            Some(v) => crate::escape::html_into(&mut out, v),
            None => {
                diags.push(errors.unknown(key, placeholder, env.extra));
                out.push_str(placeholder);
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Errors of a page's placeholders, placed in its source text. Placeholders come in the order
/// of the text: each is looked for after the last one, and positions are counted from there
/// (many of them stay linear).
struct PlaceholderErrors<'a> {
    doc: &'a crate::model::Document,
    text: &'a str,
    /// Where the previous placeholder found ended.
    cursor: usize,
    places: Option<Places<'a>>,
}

impl PlaceholderErrors<'_> {
    /// A placeholder of a known key inside an HTML tag.
    fn inside_tag(&mut self, key: &str, placeholder: &str) -> Diagnostic {
        let offset = self
            .after_cursor(placeholder)
            .unwrap_or(self.doc.body_offset);
        let d = Diagnostic::error(
            &self.doc.src.shown,
            format!("`{{{{ extra.{key} }}}}` inside an HTML tag"),
        );
        self.at(d, offset, placeholder).with_hint(
            "a placeholder is text: write it outside the tag, e.g. E-Mail: {{ extra.email }}",
        )
    }

    /// A placeholder whose key is no text of `[extra]`.
    fn unknown(&mut self, key: &str, placeholder: &str, extra: &toml::Table) -> Diagnostic {
        let body = self.doc.body_offset;
        let offset = self
            .after_cursor(placeholder)
            .or_else(|| self.text[body..].find(placeholder).map(|i| body + i))
            .unwrap_or(body);
        let known = extra
            .iter()
            .filter(|(_, v)| v.is_str())
            .map(|(k, _)| k.as_str());
        let hint = did_you_mean(key, known)
            .unwrap_or_else(|| format!("add {key} = \"…\" under [extra] in config.toml"));
        let d = Diagnostic::error(
            &self.doc.src.shown,
            format!("`{{{{ extra.{key} }}}}`: no text `{key}` in [extra] of config.toml"),
        );
        self.at(d, offset, placeholder).with_hint(hint)
    }

    fn after_cursor(&self, placeholder: &str) -> Option<usize> {
        self.text
            .get(self.cursor..)
            .and_then(|t| t.find(placeholder))
            .map(|i| self.cursor + i)
    }

    /// `d` at `offset`, where `placeholder` is; the next one is looked for after it.
    fn at(&mut self, d: Diagnostic, offset: usize, placeholder: &str) -> Diagnostic {
        self.cursor = offset + placeholder.len();
        let text = self.text;
        self.places
            .get_or_insert_with(|| Places::new(text))
            .at(d, offset)
    }
}

/// Whether sanitised HTML, fed in pieces, ends inside a tag (an attribute value included):
/// the sanitiser's output escapes `<` in text and quotes every attribute value with `"`, so
/// following those is exact. A value filled in there would escape the sanitiser's URL check
/// (`href="{{ extra.x }}"` with `javascript:…`).
#[derive(Default)]
struct TagState {
    in_tag: bool,
    in_value: bool,
}

impl TagState {
    fn feed(&mut self, html: &str) {
        for b in html.bytes() {
            match (self.in_tag, self.in_value, b) {
                (false, _, b'<') => self.in_tag = true,
                (true, _, b'"') => self.in_value = !self.in_value,
                (true, false, b'>') => self.in_tag = false,
                _ => {}
            }
        }
    }

    fn inside(&self) -> bool {
        self.in_tag
    }
}

/// Renders the Markdown of one node (body and Markdown fields), links resolved by `resolver`;
/// `text` is the node's source (a build takes the texts out of the site to free each one as
/// soon as it is rendered).
fn render_text(
    site: &Site,
    env: &Env<'_>,
    id: NodeId,
    text: &str,
    resolver: &dyn LinkResolver,
) -> (Body, Vec<Diagnostic>) {
    let doc = &site.nodes[id].doc;
    let mut diags = Vec::new();
    let mut links = Vec::new();
    // `place` turns an offset of the rendered text into one of the file.
    // Positions by one line index, not a scan from the top for each (many errors stay linear).
    let mut places: Option<Places<'_>> = None;
    let mut collect = |r: &Rendered, place: &dyn Fn(usize) -> usize| {
        for l in &r.lints {
            let d = if l.error {
                Diagnostic::error(&doc.src.shown, l.message.clone())
            } else {
                Diagnostic::warning(&doc.src.shown, l.message.clone())
            };
            let d = places
                .get_or_insert_with(|| Places::new(text))
                .at(d, place(l.offset));
            diags.push(d.with_hint(l.hint.clone()));
        }
        for (off, e) in &r.errors {
            let d = Diagnostic::error(&doc.src.shown, e.message.clone());
            let d = places
                .get_or_insert_with(|| Places::new(text))
                .at(d, place(*off));
            diags.push(d.with_hint_opt(e.hint.clone()));
        }
        for (off, t) in &r.links {
            links.push((place(*off), t.clone()));
        }
    };
    let mut r = markdown::render(&text[doc.body_offset..], &env.opts, env.hl, resolver);
    collect(&r, &|off| doc.body_offset + off);
    let mut field_html = Vec::new();
    for (name, v) in &doc.fm.fields {
        if let FieldValue::Markdown(md) = v {
            let fr = markdown::render_inline(&md.value, &env.opts, env.hl, resolver);
            // Quotes, a newline after the opening ones and escapes shift the text in the file.
            let map = text
                .get(md.offset..)
                .and_then(|token| crate::text::string_map(token, &md.value));
            let place = |off: usize| {
                md.offset
                    + map
                        .as_ref()
                        .and_then(|m| m.get(off).copied())
                        .unwrap_or(off + 1)
            };
            collect(&fr, &place);
            field_html.push((name.clone(), fr.html));
        }
    }
    r.html = fill_placeholders(std::mem::take(&mut r.html), env, doc, text, &mut diags);
    let hash = crate::model::fingerprint(&(&r.html, &r.toc, &r.summary_text, &field_html));
    let body = Body {
        hash,
        word_count: count_words(&r.html),
        html: r.html,
        toc: r.toc,
        summary: r.summary_text,
        field_html,
        backlinks: Vec::new(),
        links,
        anchors: r.anchors,
        anchor_places: Vec::new(),
    };
    (body, diags)
}

/// Takes the source texts out of the site for [`render_bodies`], leaving each document only
/// its front matter (the stages after Markdown place messages there at most).
pub(crate) fn take_texts(site: &mut Site) -> Vec<std::sync::Arc<str>> {
    site.nodes
        .par_iter_mut()
        .map(|n| {
            let front = n.doc.src.text[..n.doc.body_offset].to_string();
            // Unshared in a one-off build: the text is freed, not copied.
            std::mem::replace(&mut Arc::make_mut(&mut n.doc).src.text, front.into())
        })
        .collect()
}

/// Renders every node's Markdown. `texts`: the sources from [`take_texts`], each freed as soon
/// as it is rendered, so that the sources and the HTML of a large site are never in memory at
/// once; `None`: the texts are in the site, and `memo` (the dev server's, from the previous
/// run) gives back every body whose text and link targets are unchanged.
pub(crate) fn render_bodies(
    site: &Site,
    env: &Env<'_>,
    progress: &indicatif::ProgressBar,
    texts: Option<Vec<Arc<str>>>,
    memo: &mut Memo,
) -> (Vec<Arc<Body>>, Vec<Diagnostic>) {
    let outs: Vec<(Arc<Body>, Vec<Diagnostic>)> = match texts {
        None => memo.render_all(site, env, progress),
        Some(texts) => texts
            .into_par_iter()
            .enumerate()
            .map(|(id, text)| {
                let out = render_freeing(site, env, NodeId::new(id), &text);
                progress.inc(1);
                out
            })
            .collect(),
    };
    let mut diags = Vec::new();
    let mut bodies = Vec::with_capacity(outs.len());
    for (b, d) in outs {
        bodies.push(b);
        diags.extend(d);
    }
    set_backlinks(site, &mut bodies, memo);
    let sources = memo.anchor_sources(site);
    diags.extend(check_anchors(
        site,
        &bodies,
        &sources,
        &env.opts.reserved_ids,
    ));
    // The memo keeps the bodies with their backlinks: next run, a body is copied again only
    // if its backlinks change.
    memo.keep_backlinks(&bodies);
    (bodies, diags)
}

/// Renders one node whose text is freed afterwards, keeping where its anchored links are for
/// the anchor check.
fn render_freeing(
    site: &Site,
    env: &Env<'_>,
    id: NodeId,
    text: &str,
) -> (Arc<Body>, Vec<Diagnostic>) {
    let resolver = Resolver::of(site, env, id);
    let (mut body, diags) = render_text(site, env, id, text, &resolver);
    let shown = &site.nodes[id].doc.src.shown;
    let mut offsets: Vec<usize> = body
        .links
        .iter()
        .filter(|(_, t)| t.anchor.is_some())
        .map(|&(off, _)| off)
        .collect();
    // In order, so that each position costs only the text since the last one.
    offsets.sort_unstable();
    offsets.dedup();
    let mut places = Places::new(text);
    body.anchor_places = offsets
        .into_iter()
        .map(|off| (off, places.at(Diagnostic::error(shown, String::new()), off)))
        .collect();
    (Arc::new(body), diags)
}

/// What the links stage kept of each node's Markdown for the next run (the dev server).
#[derive(Default)]
pub(crate) struct Memo {
    /// The Markdown options the bodies were rendered with; other ones render all anew.
    options: Option<markdown::Options>,
    /// By node index: while the link table is the same, so are the nodes and their order.
    bodies: Vec<Memoized>,
    /// The [`link_table`] of the site they were rendered in.
    table: Option<u64>,
    /// This run's bodies are the last run's but for `replaced` (false: all may differ).
    updated: bool,
    /// The last run's backlinks by node, in id order (before the sort by title).
    incoming: Vec<Vec<NodeId>>,
    /// Of this run, when `updated`: the nodes rendered anew and their last bodies.
    replaced: Vec<(NodeId, Arc<Body>)>,
}

/// One rendered body and the document it was rendered from.
struct Memoized {
    doc: Arc<Document>,
    body: Arc<Body>,
    diags: Vec<Diagnostic>,
}

impl Memo {
    /// Every node's body: from the memo where nothing it read changed, else rendered.
    fn render_all(
        &mut self,
        site: &Site,
        env: &Env<'_>,
        progress: &indicatif::ProgressBar,
    ) -> Vec<(Arc<Body>, Vec<Diagnostic>)> {
        if self.options.as_ref() != Some(&env.opts) {
            self.bodies.clear();
            self.options = Some(env.opts.clone());
        }
        // Links read only this table from the site: while it is the same, every link resolves
        // as before, and a body depends on its own text alone. With a delta, the table is the
        // last run's.
        let table = match (&site.delta, self.table) {
            (Some(_), Some(t)) => t,
            _ => link_table(site),
        };
        if self.table != Some(table) || self.bodies.len() != site.nodes.len() {
            self.bodies.clear();
            self.table = Some(table);
        }
        let valid = self.bodies.len() == site.nodes.len();
        let rendered = self.render_stale(site, env, progress, valid);
        self.updated = valid;
        self.replaced.clear();
        for (id, m) in rendered {
            if valid {
                let old = std::mem::replace(&mut self.bodies[id.index()], m);
                self.replaced.push((id, old.body));
            } else {
                self.bodies.push(m);
            }
        }
        self.bodies
            .iter()
            .map(|m| (m.body.clone(), m.diags.clone()))
            .collect()
    }

    /// The nodes whose document differs from the memo's, rendered, in id order (all of them
    /// unless `valid`). With the site's delta only the swapped nodes can differ.
    fn render_stale(
        &self,
        site: &Site,
        env: &Env<'_>,
        progress: &indicatif::ProgressBar,
        valid: bool,
    ) -> Vec<(NodeId, Memoized)> {
        let kept = &self.bodies;
        let stale = |id: NodeId| {
            !kept
                .get(id.index())
                .is_some_and(|m| same_document(&m.doc, &site.nodes[id].doc))
        };
        let render = |id: NodeId| (id, render_memoized(site, env, id));
        match site.delta.as_ref().filter(|_| valid) {
            Some(delta) => {
                progress.inc(site.nodes.len() as u64);
                let ids: Vec<NodeId> = delta.swapped.iter().map(|(id, _)| *id).collect();
                ids.into_par_iter()
                    .filter(|&id| stale(id))
                    .map(render)
                    .collect()
            }
            None => (0..site.nodes.len())
                .into_par_iter()
                .map(NodeId::new)
                .filter(|&id| {
                    progress.inc(1);
                    stale(id)
                })
                .map(render)
                .collect(),
        }
    }

    /// Updates the last run's backlink lists (by id) for the bodies rendered anew, if the
    /// memo holds the last run's bodies and lists: the nodes whose list may have changed
    /// (the fresh bodies and every target of their old and new links), sorted.
    fn update_incoming(&mut self, bodies: &[Arc<Body>]) -> Option<Vec<NodeId>> {
        let n = bodies.len();
        if !self.updated || self.incoming.len() != n {
            return None;
        }
        let mut affected = Vec::new();
        for (id, old) in &self.replaced {
            let id = *id;
            affected.push(id);
            for (_, t) in old.links.iter().filter(|(_, t)| t.page != id) {
                let list = &mut self.incoming[t.page.index()];
                if let Ok(i) = list.binary_search(&id) {
                    list.remove(i);
                }
                affected.push(t.page);
            }
            for (_, t) in bodies[id].links.iter().filter(|(_, t)| t.page != id) {
                let list = &mut self.incoming[t.page.index()];
                if let Err(i) = list.binary_search(&id) {
                    list.insert(i, id);
                }
                affected.push(t.page);
            }
        }
        affected.sort_unstable();
        affected.dedup();
        Some(affected)
    }

    /// The nodes whose anchored links must be checked: with the site's delta (the last run
    /// was a clean build of the same nodes) only the bodies rendered anew and the nodes that
    /// link to them; else all. Call after [`set_backlinks`].
    fn anchor_sources(&self, site: &Site) -> Vec<NodeId> {
        let n = site.nodes.len();
        if site.delta.is_none() || !self.updated || self.incoming.len() != n {
            return NodeId::all(n).collect();
        }
        let mut sources: Vec<NodeId> = Vec::new();
        for (id, _) in &self.replaced {
            sources.push(*id);
            sources.extend(&self.incoming[id.index()]);
        }
        sources.sort_unstable();
        sources.dedup();
        sources
    }
}

impl Memo {
    /// Replaces each memoized body by the same body with its backlinks set.
    fn keep_backlinks(&mut self, bodies: &[Arc<Body>]) {
        for (m, b) in self.bodies.iter_mut().zip(bodies) {
            if !Arc::ptr_eq(&m.body, b) {
                m.body = b.clone();
            }
        }
    }
}

/// Whether two documents are the same input to Markdown rendering: the same text and the
/// same front matter (whose field types come from the content type, maybe inherited).
fn same_document(a: &Arc<Document>, b: &Arc<Document>) -> bool {
    Arc::ptr_eq(a, b)
        || ((Arc::ptr_eq(&a.src.text, &b.src.text) || a.src.text == b.src.text) && a.fm == b.fm)
}

/// A fingerprint of everything the link resolver reads: each node's source path and URL,
/// and which documents are left out as drafts or internal.
fn link_table(site: &Site) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = crate::model::print_hasher();
    for n in &site.nodes {
        (&n.doc.src.rel, &n.path).hash(&mut h);
    }
    // A link to either is an error, with a message that says which.
    for left_out in [&site.drafts, &site.intern_excluded] {
        let mut sorted: Vec<&String> = left_out.iter().collect();
        sorted.sort();
        sorted.hash(&mut h);
    }
    h.finish()
}

/// Renders one node for the memo.
fn render_memoized(site: &Site, env: &Env<'_>, id: NodeId) -> Memoized {
    let doc = &site.nodes[id].doc;
    let resolver = Resolver::of(site, env, id);
    let (body, diags) = render_text(site, env, id, &doc.src.text, &resolver);
    Memoized {
        doc: doc.clone(),
        body: Arc::new(body),
        diags,
    }
}

/// Checks the anchors of the links written in `sources`.
/// Most anchors a hint lists (a page may have thousands).
const MAX_LISTED: usize = 10;

pub(crate) fn check_anchors(
    site: &Site,
    bodies: &[Arc<Body>],
    sources: &[NodeId],
    theme_ids: &[String],
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for &src in sources {
        let doc = &site.nodes[src].doc;
        for (off, t) in &bodies[src].links {
            let Some(a) = &t.anchor else { continue };
            let anchors = &bodies[t.page].anchors;
            if a.is_empty() || anchors.iter().chain(theme_ids).any(|x| x == a) {
                continue;
            }
            // The hint names the page's own anchors, not the theme's.
            let target = &site.nodes[t.page].doc.src.shown;
            let hint = did_you_mean(a, anchors.iter().map(String::as_str)).unwrap_or_else(|| {
                let mut known: Vec<&str> = anchors.iter().map(String::as_str).collect();
                known.sort_unstable();
                if known.is_empty() {
                    "that page has no headings; link to the page without #…".into()
                } else if known.len() > MAX_LISTED {
                    format!("headings there: #{}, …", known[..MAX_LISTED].join(", #"))
                } else {
                    format!("headings there: #{}", known.join(", #"))
                }
            });
            let message = format!(
                "link to a missing anchor: `#{a}` is not a heading in {}",
                target.display()
            );
            let places = &bodies[src].anchor_places;
            let place = places
                .binary_search_by_key(off, |(o, _)| *o)
                .ok()
                .and_then(|i| places.get(i));
            let d = match place {
                Some((_, place)) => Diagnostic {
                    message,
                    ..place.clone()
                },
                None => Diagnostic::error(&doc.src.shown, message).at(&doc.src.text, *off),
            };
            diags.push(d.with_hint(hint));
        }
    }
    diags
}

/// Lines and columns of many offsets of one text. `error::position` scans the text from its
/// start for each; this finds the line by binary search and, for offsets asked in increasing
/// order, counts only the characters since the last one (a megabyte line with thousands of
/// links stays linear).
struct Places<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// (line index, offset, column) of the last answer.
    last: Option<(usize, usize, usize)>,
}

impl<'a> Places<'a> {
    fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Places {
            text,
            line_starts,
            last: None,
        }
    }

    /// `d` placed at byte `offset`, as [`Diagnostic::at`] would.
    fn at(&mut self, mut d: Diagnostic, offset: usize) -> Diagnostic {
        let text = self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(text.len(), |&next| next - 1);
        let col = match self.last {
            Some((l, o, c)) if l == line && o <= offset => c + text[o..offset].chars().count(),
            _ => text[start..offset].chars().count() + 1,
        };
        self.last = Some((line, offset, col));
        d.line = line + 1;
        d.col = col;
        d.source_line = Some(text[start..end].trim_end_matches('\r').to_string());
        d
    }
}

/// Fills every body's backlinks, sorted by title (a body is copied only if its list changed):
/// from the memo's last lists where it holds them (only the lists that may have changed are
/// sorted again), else from the links of all bodies.
pub(crate) fn set_backlinks(site: &Site, bodies: &mut [Arc<Body>], memo: &mut Memo) {
    if let Some(affected) = memo.update_incoming(bodies) {
        for id in affected {
            let mut sorted = memo.incoming[id.index()].clone();
            crate::resolve::sort_by_title(&site.nodes, &mut sorted);
            if bodies[id].backlinks != sorted {
                Arc::make_mut(&mut bodies[id]).backlinks = sorted;
            }
        }
        return;
    }
    let mut incoming: Vec<Vec<NodeId>> = vec![Vec::new(); bodies.len()];
    for (src, b) in NodeId::all(bodies.len()).zip(bodies.iter()) {
        for (_, t) in &b.links {
            if t.page != src {
                incoming[t.page].push(src);
            }
        }
    }
    for (b, list) in bodies.iter_mut().zip(&mut incoming) {
        list.sort_unstable();
        list.dedup();
        let mut sorted = list.clone();
        crate::resolve::sort_by_title(&site.nodes, &mut sorted);
        if b.backlinks != sorted {
            Arc::make_mut(b).backlinks = sorted;
        }
    }
    memo.incoming = incoming;
}

/// Words of the visible text, for reading time.
fn count_words(html: &str) -> usize {
    // Text outside tags, a tag counting as a separator; no copy of the page is made.
    let mut in_tag = false;
    let mut in_word = false;
    let mut words = 0;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                in_word = false;
            }
            '>' => in_tag = false,
            _ if in_tag => {}
            c if c.is_whitespace() => in_word = false,
            _ => {
                if !in_word {
                    words += 1;
                }
                in_word = true;
            }
        }
    }
    words
}

/// Renders a document that is not a node of the site (keyword descriptions), links resolved.
pub(crate) fn render_detached(
    site: &Site,
    env: &Env<'_>,
    doc: &crate::model::Document,
) -> (String, Vec<Diagnostic>) {
    let resolver = Resolver {
        site,
        base_url: env.base_url,
        rel: &doc.src.rel,
    };
    let r = markdown::render(doc.body(), &env.opts, env.hl, &resolver);
    let mut diags: Vec<Diagnostic> = r
        .errors
        .iter()
        .map(|(off, e)| {
            Diagnostic::error(&doc.src.shown, e.message.clone())
                .at(&doc.src.text, doc.body_offset + off)
                .with_hint_opt(e.hint.clone())
        })
        .collect();
    let html = fill_placeholders(r.html, env, doc, &doc.src.text, &mut diags);
    (html, diags)
}

/// HTML of the keyword index text and the keyword descriptions.
pub(crate) fn keyword_html(
    site: &Site,
    env: &Env<'_>,
    keywords: &crate::model::Keywords,
) -> (crate::model::KeywordHtml, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut kw_html = crate::model::KeywordHtml::default();
    if let Some(doc) = &keywords.index_doc {
        let (html, d) = render_detached(site, env, doc);
        diags.extend(d);
        kw_html.index = html;
        kw_html.index_title = Some(doc.fm.title.clone());
        kw_html.index_description = doc.fm.description.clone();
    }
    for (i, k) in KeywordId::all(keywords.list.len()).zip(&keywords.list) {
        if let Some(doc) = &k.description {
            let (html, d) = render_detached(site, env, doc);
            diags.extend(d);
            kw_html.descriptions.insert(i, html);
        }
    }
    (kw_html, diags)
}

#[cfg(test)]
mod tests {
    use super::{count_words, Places};
    use crate::error::Diagnostic;

    #[test]
    fn places_agree_with_position() {
        let text = "ab\nc\u{e4}d\r\n\nxyz";
        let mut places = Places::new(text);
        for off in [0, 1, 3, 4, 6, 7, 9, 10, 11, 13, 99, 5] {
            let d = places.at(Diagnostic::error("f", ""), off);
            let (line, col, src) = crate::error::position(text, off);
            assert_eq!(
                (d.line, d.col, d.source_line.as_deref()),
                (line, col, Some(src)),
                "{off}"
            );
        }
    }

    #[test]
    fn words_are_counted_outside_tags() {
        assert_eq!(count_words("<p>Hallo  Welt</p>\n<p>zwei</p>"), 3);
        // A tag separates words, as a browser's text extraction would not join them.
        assert_eq!(count_words("a<b>c</b>"), 2);
        assert_eq!(count_words("<a href=\"x y z\">Förder\u{a0}mittel</a>"), 2);
        assert_eq!(count_words(""), 0);
    }
}
