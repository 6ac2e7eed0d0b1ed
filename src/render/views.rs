//! The views templates see (the theme contract, docs/theme-contract.md) and [`Ctx`], the one
//! place the render stage reads the site from: every read of a node, a body or a keyword by a
//! job goes through a `Ctx` method below (the fields are private to this file).

use std::sync::{Arc, Mutex, PoisonError};

use super::reads::{Read, Recorder};
use crate::model::{
    fingerprint, Body, Date, Document, FieldValue, Keyword, KeywordId, Keywords, Node, NodeId, Site,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::filters::{dm_to_euro_cents, format_de};
use super::special::SEARCH_PATH;
use crate::config::Settings;
use crate::resolve::{all_pages, ancestors};

#[derive(Serialize)]
pub(super) struct LinkView<'a> {
    pub title: &'a str,
    pub permalink: String,
    pub path: &'a str,
}

#[derive(Serialize)]
pub(super) struct DateView {
    iso: String,
    display: String,
}

impl From<&Date> for DateView {
    fn from(d: &Date) -> Self {
        DateView {
            iso: d.iso(),
            display: d.display(),
        }
    }
}

#[derive(Serialize)]
pub(super) struct KeywordView<'a> {
    name: &'a str,
    slug: &'a str,
    permalink: String,
    count: usize,
}

#[derive(Serialize)]
pub(super) struct SummaryView<'a> {
    title: &'a str,
    permalink: String,
    path: &'a str,
    description: &'a str,
    summary: &'a str,
    date: Option<DateView>,
    weight: i64,
    #[serde(rename = "type")]
    doc_type: Option<&'a str>,
    fields: Value,
    /// Which fields are HTML (`markdown`) and which text: a listing must not print a text
    /// field with `| safe` because another type's field of the same name was HTML.
    field_types: Value,
    suchworte: Vec<KeywordView<'a>>,
}

#[derive(Serialize)]
pub(super) struct PageView<'a> {
    title: &'a str,
    description: &'a str,
    permalink: String,
    path: &'a str,
    slug: &'a str,
    date: Option<DateView>,
    updated: Option<DateView>,
    weight: i64,
    draft: bool,
    /// Intranet-only (only ever true in targets that include internal content).
    intern: bool,
    content: &'a str,
    summary: &'a str,
    toc: &'a [crate::model::TocEntry],
    word_count: usize,
    reading_time: usize,
    #[serde(rename = "type")]
    doc_type: Option<&'a str>,
    /// The content type's label, e.g. "Modellprojekt".
    type_label: Option<&'a str>,
    fields: Value,
    field_labels: Value,
    /// Field name → field type name (`text`, `money`, …).
    field_types: Value,
    suchworte: Vec<KeywordView<'a>>,
    breadcrumbs: Vec<LinkView<'a>>,
    section: Option<LinkView<'a>>,
    prev: Option<LinkView<'a>>,
    next: Option<LinkView<'a>>,
    backlinks: Vec<LinkView<'a>>,
    assets: Vec<String>,
    extra: &'a Value,
}

#[derive(Serialize)]
pub(super) struct SiteView<'a> {
    title: &'a str,
    description: &'a str,
    language: &'a str,
    base_url: &'a str,
    root: &'a str,
    pub keywords_url: String,
    pub menu: Vec<LinkView<'a>>,
    /// The menu already has an entry for the keyword index (`content/suchworte/_index.md`).
    keywords_in_menu: bool,
    extra: &'a toml::Table,
    /// Absolute URL of the Atom feed.
    feed_url: String,
    /// Absolute URL of the search page, or null when this target has no search.
    search_url: Option<String>,
    /// Absolute URL of the search index folder (`…/pagefind/`), or null.
    search_bundle_url: Option<String>,
    target: TargetView<'a>,
}

#[derive(Serialize)]
pub(super) struct TargetView<'a> {
    name: &'a str,
    /// Internal content is part of this build.
    intern: bool,
    /// Links are relative for opening from a file share (file://).
    relative: bool,
}

/// Listed nodes in a view: serialised as `null`, then put in by [`insert_view`] as the
/// summaries made beforehand, lent from the [`Summaries`] store (a listing shows hundreds).
pub(super) struct Listed(pub Vec<NodeId>);

impl Serialize for Listed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

/// Every node's summary for listings (`Null`: not made), each lent to one render at a time:
/// a listing's context must own its values, and moving them in and back out costs nothing,
/// where copying hundreds of them cost more than rendering them.
pub(super) struct Summaries(Vec<Mutex<Value>>);

impl Summaries {
    pub(super) fn new(values: Vec<Value>) -> Self {
        Summaries(values.into_iter().map(Mutex::new).collect())
    }

    pub(super) fn into_values(self) -> Vec<Value> {
        let inner = |m: Mutex<Value>| m.into_inner().unwrap_or_else(PoisonError::into_inner);
        self.0.into_iter().map(inner).collect()
    }

    fn slot(&self, id: NodeId) -> Option<std::sync::MutexGuard<'_, Value>> {
        let m = self.0.get(id.index())?;
        Some(m.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// What [`insert_view`] lent a context: its key and, per listing field, the nodes.
pub(super) struct Lent {
    key: &'static str,
    lists: Vec<(&'static str, Vec<NodeId>)>,
}

/// Puts `view` into the context as `key`, with its listings (field name, nodes) in place;
/// [`give_back`] returns the summaries after the render.
pub(super) fn insert_view(
    ctx: &Ctx<'_>,
    c: &mut tera::Context,
    key: &'static str,
    view: &impl Serialize,
    lists: &[(&'static str, &Listed)],
) -> Lent {
    let mut v = serde_json::to_value(view).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut v {
        for (name, list) in lists {
            if let Some(slot) = fields.get_mut(*name) {
                *slot = Value::Array(list.0.iter().map(|&id| ctx.lend(id)).collect());
            }
        }
    }
    let mut outer = serde_json::Map::new();
    outer.insert(key.to_string(), v);
    // Moved into the context, not serialised once more (as `Context::insert` would).
    if let Ok(view) = tera::Context::from_value(Value::Object(outer)) {
        c.extend(view);
    }
    Lent {
        key,
        lists: lists.iter().map(|(n, l)| (*n, l.0.clone())).collect(),
    }
}

/// Takes the view [`insert_view`] put into the context out again, and its summaries back
/// into the store.
pub(super) fn give_back(ctx: &Ctx<'_>, c: &mut tera::Context, lent: Lent) {
    let Some(Value::Object(mut view)) = c.remove(lent.key) else {
        return;
    };
    for (name, ids) in lent.lists {
        if let Some(Value::Array(items)) = view.remove(name) {
            for (id, v) in ids.into_iter().zip(items) {
                ctx.give_back(id, v);
            }
        }
    }
}

/// Everything the views are made from, borrowed. The site, the bodies and the keywords are
/// read only through the methods below: they are where a job's reads can be recorded.
pub(super) struct Ctx<'a> {
    pub settings: &'a Settings,
    site: &'a Site,
    bodies: &'a [Arc<Body>],
    keywords: &'a Keywords,
    /// Title of the keyword index: its `_index.md` title, else the theme's `keywords` string.
    keywords_title: String,
    /// Every node's summary for listings, built once: a page appears in many lists.
    summaries: Option<&'a Summaries>,
    /// Notes what a job reads, when the render memo is on.
    recorder: Option<Arc<Recorder>>,
}

static NULL: Value = Value::Null;

impl<'a> Ctx<'a> {
    /// A context without summaries yet (they are made from it: [`Ctx::summary`]).
    pub(super) fn new(
        settings: &'a Settings,
        site: &'a Site,
        bodies: &'a [std::sync::Arc<Body>],
        keywords: &'a Keywords,
        keywords_title: String,
    ) -> Self {
        Ctx {
            settings,
            site,
            bodies,
            keywords,
            keywords_title,
            summaries: None,
            recorder: None,
        }
    }

    /// This context for one job, noting what it reads in `recorder`.
    pub(super) fn recording(&self, recorder: Option<Arc<Recorder>>) -> Self {
        Ctx {
            keywords_title: self.keywords_title.clone(),
            recorder,
            ..*self
        }
    }

    fn note(&self, r: Read) {
        if let Some(rec) = &self.recorder {
            rec.note(r);
        }
    }

    /// The same context with the summaries (`Null` for nodes no selected job lists).
    pub(super) fn with_summaries(self, summaries: &'a Summaries) -> Self {
        Ctx {
            summaries: Some(summaries),
            ..self
        }
    }

    /// Node `id`'s listed summary, moved out of the store; made anew if another render on a
    /// parallel thread (or another listing of this one) holds it now.
    fn lend(&self, id: NodeId) -> Value {
        let held = self
            .summaries
            .and_then(|s| s.slot(id))
            .map(|mut v| v.take());
        match held {
            Some(v) if !v.is_null() => v,
            _ => serde_json::to_value(self.summary(id)).unwrap_or(Value::Null),
        }
    }

    /// Puts a lent summary back (where the store's slot is still empty).
    fn give_back(&self, id: NodeId, v: Value) {
        if let Some(mut slot) = self.summaries.and_then(|s| s.slot(id)) {
            if slot.is_null() {
                *slot = v;
            }
        }
    }

    pub(super) fn permalink(&self, path: &str) -> String {
        format!("{}{}", self.settings.base_url, path.trim_start_matches('/'))
    }

    pub(super) fn link(&self, id: NodeId) -> LinkView<'a> {
        self.note(Read::Link(id));
        let n: &'a Node = &self.site.nodes[id];
        LinkView {
            title: &n.doc.fm.title,
            permalink: self.permalink(&n.path),
            path: &n.path,
        }
    }

    /// What [`Ctx::link`] shows of a node.
    pub(super) fn link_print(&self, id: NodeId) -> u64 {
        let n = &self.site.nodes[id];
        fingerprint(&(&n.doc.fm.title, &n.path))
    }

    /// The node a job renders or schedules: its path, front matter, source and child ids.
    pub(super) fn node(&self, id: NodeId) -> &'a Node {
        self.note(Read::Page(id));
        &self.site.nodes[id]
    }

    pub(super) fn node_count(&self) -> usize {
        self.site.nodes.len()
    }

    pub(super) fn home(&self) -> NodeId {
        self.site.home
    }

    /// Length of a node's rendered body (the output cap grows with it).
    pub(super) fn content_len(&self, id: NodeId) -> usize {
        self.note(Read::Page(id));
        self.bodies[id].html.len()
    }

    /// The main menu: the home page's subsections.
    pub(super) fn menu(&self) -> Vec<LinkView<'a>> {
        let home = self.site.home;
        let mut menu: Vec<NodeId> = self.site.nodes[home].subsections.clone();
        menu.retain(|&s| s != home);
        menu.into_iter().map(|s| self.link(s)).collect()
    }

    /// The nodes of a listing (their summaries are lent by [`insert_view`]).
    pub(super) fn listed(&self, ids: &[NodeId]) -> Listed {
        for &p in ids {
            self.note(Read::Summary(p));
        }
        Listed(ids.to_vec())
    }

    /// The listing of every page below section `id`, for `all_pages`.
    pub(super) fn all_pages(&self, id: NodeId) -> Listed {
        self.listed(&self.all_page_ids(id))
    }

    /// Ids of every page below section `id`.
    pub(super) fn all_page_ids(&self, id: NodeId) -> Vec<NodeId> {
        self.note(Read::Tree);
        all_pages(&self.site.nodes, id)
    }

    /// With the site's delta: the nodes whose prints may differ from the last run's, given the
    /// nodes whose document or body is another (`remade`): those, the sections sorted again
    /// and their children (other neighbours). `None` without a delta.
    pub(super) fn touched(&self, remade: &[NodeId]) -> Option<Vec<NodeId>> {
        let delta = self.site.delta.as_ref()?;
        let mut touched: Vec<NodeId> = delta.swapped.iter().map(|(id, _)| *id).collect();
        touched.extend(remade);
        for &s in &delta.resorted {
            let n = &self.site.nodes[s];
            touched.push(s);
            touched.extend(n.pages.iter().chain(&n.subsections));
        }
        touched.sort_unstable();
        touched.dedup();
        Some(touched)
    }

    /// Whether the delta sorted a section again (else the tree is the last run's).
    pub(super) fn resorted(&self) -> bool {
        self.site
            .delta
            .as_ref()
            .is_none_or(|d| !d.resorted.is_empty())
    }

    /// What [`Ctx::all_page_ids`] reads: the tree of the whole site.
    pub(super) fn tree_print(&self) -> u64 {
        let tree: Vec<(Option<NodeId>, &[NodeId], &[NodeId])> = self
            .site
            .nodes
            .iter()
            .map(|n| (n.parent, n.pages.as_slice(), n.subsections.as_slice()))
            .collect();
        fingerprint(&tree)
    }

    /// The keyword a keyword page is about: name, slug, pages, related keywords, description.
    pub(super) fn keyword(&self, k: KeywordId) -> &'a Keyword {
        self.note(Read::Keyword(k));
        &self.keywords.list[k]
    }

    /// What a keyword page shows of [`Ctx::keyword`] (its listed pages and related keywords
    /// are read as their own summaries and references).
    pub(super) fn keyword_print(&self, k: KeywordId, refs: &[u64]) -> u64 {
        let kw = &self.keywords.list[k];
        fingerprint(&(refs[k], &kw.pages, &kw.related, &kw.see_also))
    }

    pub(super) fn keyword_count(&self) -> usize {
        self.keywords.list.len()
    }

    pub(super) fn keywords_title(&self) -> &str {
        &self.keywords_title
    }

    /// URL path of the keyword index.
    pub(super) fn keyword_index_path(&self) -> String {
        format!("/{}/", self.settings.keywords.path)
    }

    pub(super) fn keyword_path(&self, slug: &str) -> String {
        format!("/{}/{slug}/", self.settings.keywords.path)
    }

    fn keyword_refs(&self, id: NodeId) -> Vec<KeywordView<'a>> {
        self.keywords.by_node[id]
            .iter()
            .map(|&k| self.keyword_view(k))
            .collect()
    }

    pub(super) fn keyword_view(&self, k: KeywordId) -> KeywordView<'a> {
        self.note(Read::KeywordRef(k));
        let kw = &self.keywords.list[k];
        KeywordView {
            name: &kw.name,
            slug: &kw.slug,
            permalink: self.permalink(&self.keyword_path(&kw.slug)),
            count: kw.pages.len(),
        }
    }

    /// What [`Ctx::keyword_view`] shows.
    pub(super) fn keyword_ref_print(&self, k: KeywordId) -> u64 {
        let kw = &self.keywords.list[k];
        fingerprint(&(&kw.name, &kw.slug, kw.pages.len()))
    }

    fn fields(&self, id: NodeId) -> (Value, Value, Value) {
        let n = &self.site.nodes[id];
        let mut fields = serde_json::Map::new();
        let mut labels = serde_json::Map::new();
        let mut types = serde_json::Map::new();
        let ctype = n
            .doc
            .fm
            .doc_type
            .as_ref()
            .and_then(|t| self.settings.types.get(t));
        for (name, v) in &n.doc.fm.fields {
            let value = match v {
                FieldValue::Text(s) => json!(s),
                FieldValue::List(l) => json!(l),
                FieldValue::Integer(i) => json!(i),
                FieldValue::Bool(b) => json!(b),
                FieldValue::Date(d) => json!(DateView::from(d)),
                FieldValue::Money { cents, currency } => money_json(*cents, currency),
                FieldValue::Markdown(_) => json!(self.bodies[id]
                    .field_html
                    .iter()
                    .find(|(f, _)| f == name)
                    .map_or("", |(_, h)| h.as_str())),
            };
            fields.insert(name.clone(), value);
            let def = ctype.and_then(|t| t.fields.iter().find(|f| &f.name == name));
            labels.insert(
                name.clone(),
                json!(def.map_or(name.as_str(), |f| f.label.as_str())),
            );
            types.insert(name.clone(), json!(def.map(|f| f.kind.name())));
        }
        (
            Value::Object(fields),
            Value::Object(labels),
            Value::Object(types),
        )
    }

    pub(super) fn summary(&self, id: NodeId) -> SummaryView<'a> {
        self.note(Read::Summary(id));
        let n: &'a Node = &self.site.nodes[id];
        let (fields, _, field_types) = self.fields(id);
        SummaryView {
            title: &n.doc.fm.title,
            permalink: self.permalink(&n.path),
            path: &n.path,
            description: &n.doc.fm.description,
            summary: &self.bodies[id].summary,
            date: n.doc.fm.date.as_ref().map(DateView::from),
            weight: n.doc.fm.weight,
            doc_type: n.doc.fm.doc_type.as_deref(),
            fields,
            field_types,
            suchworte: self.keyword_refs(id),
        }
    }

    /// What [`Ctx::summary`] shows: the node's link, its texts ([`Ctx::summary_text_print`])
    /// and its keywords.
    pub(super) fn summary_print(&self, id: NodeId, text: u64, links: &[u64], refs: &[u64]) -> u64 {
        let keywords: Vec<u64> = self.keywords.by_node[id].iter().map(|&k| refs[k]).collect();
        fingerprint(&(links[id], text, keywords))
    }

    /// What [`Ctx::summary`] shows of the node's document and body but for the summary text
    /// ([`Ctx::text_print`]): the front matter (from the file's front matter text and the
    /// content type; not the body's text, so that an edit of the text re-renders a listing
    /// only if the listing shows the summary and it changed) and the Markdown fields. The same
    /// for the same document and body ([`Ctx::texts_of`]).
    pub(super) fn summary_text_print(&self, id: NodeId) -> u64 {
        let n = &self.site.nodes[id];
        let b = &self.bodies[id];
        let front = n
            .doc
            .src
            .text
            .get(..n.doc.body_offset)
            .unwrap_or(&n.doc.src.text);
        fingerprint(&(front, &n.doc.fm.doc_type, &b.field_html))
    }

    /// A node's summary text, which a listing may or may not show ([`Read::SummaryText`]).
    pub(super) fn text_print(&self, id: NodeId) -> u64 {
        fingerprint(&self.bodies[id].summary)
    }

    /// A node's URL path, for the engine's bookkeeping (not a read).
    pub(super) fn path_of(&self, id: NodeId) -> &'a str {
        &self.site.nodes[id].path
    }

    /// The document and body [`Ctx::summary_text_print`] reads.
    pub(super) fn texts_of(&self, id: NodeId) -> (&'a Arc<Document>, &'a Arc<Body>) {
        (&self.site.nodes[id].doc, &self.bodies[id])
    }

    pub(super) fn page(&self, id: NodeId) -> PageView<'a> {
        self.note(Read::Page(id));
        let n: &'a Node = &self.site.nodes[id];
        let b: &'a Body = &self.bodies[id];
        let (fields, field_labels, field_types) = self.fields(id);
        PageView {
            title: &n.doc.fm.title,
            description: &n.doc.fm.description,
            permalink: self.permalink(&n.path),
            path: &n.path,
            slug: n
                .path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(""),
            date: n.doc.fm.date.as_ref().map(DateView::from),
            updated: n.doc.fm.updated.as_ref().map(DateView::from),
            weight: n.doc.fm.weight,
            draft: n.doc.fm.draft,
            intern: n.doc.fm.intern,
            content: &b.html,
            summary: &b.summary,
            toc: &b.toc,
            word_count: b.word_count,
            reading_time: b.word_count.div_ceil(200).max(1),
            doc_type: n.doc.fm.doc_type.as_deref(),
            type_label: n
                .doc
                .fm
                .doc_type
                .as_ref()
                .and_then(|t| self.settings.types.get(t))
                .map(|t| t.label.as_str()),
            fields,
            field_labels,
            field_types,
            suchworte: self.keyword_refs(id),
            breadcrumbs: ancestors(&self.site.nodes, id)
                .into_iter()
                .map(|a| self.link(a))
                .collect(),
            section: n.parent.map(|p| self.link(p)),
            prev: n.prev.map(|p| self.link(p)),
            next: n.next.map(|p| self.link(p)),
            backlinks: b.backlinks.iter().map(|&x| self.link(x)).collect(),
            assets: n.assets.iter().map(|a| self.permalink(a)).collect(),
            extra: if n.doc.fm.extra.is_null() {
                &NULL
            } else {
                &n.doc.fm.extra
            },
        }
    }

    /// What [`Ctx::page`] shows besides the summary (the linked nodes are read as links):
    /// the body, what resolve decided (intern, neighbours, children, assets), the backlinks.
    pub(super) fn page_print(&self, id: NodeId, summaries: &[u64], texts: &[u64]) -> u64 {
        let n = &self.site.nodes[id];
        let b = &self.bodies[id];
        fingerprint(&(
            summaries[id],
            texts[id],
            b.hash,
            n.doc.fm.intern,
            (n.parent, n.prev, n.next),
            (&n.pages, &n.subsections, &n.assets),
            &b.backlinks,
        ))
    }

    /// What templates see of the site as a whole (`site`).
    pub(super) fn site_view(&self) -> SiteView<'a> {
        let settings = self.settings;
        let mut view = SiteView {
            title: &settings.title,
            description: &settings.description,
            language: &settings.language,
            base_url: &settings.base_url,
            root: &settings.base_url,
            keywords_url: self.permalink(&self.keyword_index_path()),
            menu: self.menu(),
            keywords_in_menu: false,
            extra: &settings.extra,
            feed_url: self.permalink("/atom.xml"),
            search_url: settings.target.search.then(|| self.permalink(SEARCH_PATH)),
            search_bundle_url: settings
                .target
                .search
                .then(|| self.permalink(&format!("/{}/", crate::model::BUNDLE_DIR))),
            target: TargetView {
                name: &settings.target.name,
                intern: settings.target.include_intern,
                relative: settings.target.relative,
            },
        };
        view.keywords_in_menu = view.menu.iter().any(|l| l.permalink == view.keywords_url);
        view
    }
}

fn money_json(cents: i64, currency: &str) -> Value {
    let euro_cents = match currency {
        "DM" => Some(dm_to_euro_cents(cents)),
        "EUR" | "€" => Some(cents),
        _ => None,
    };
    let amount = format_de(cents);
    json!({
        "cents": cents,
        "amount": amount,
        "currency": currency,
        "display": format!("{amount} {currency}"),
        "euro_cents": euro_cents,
        "euro": euro_cents.map(format_de),
        "euro_display": euro_cents.map(|e| format!("{} €", format_de(e))),
    })
}
