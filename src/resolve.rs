//! Stage 3: the section tree, URLs, sort order and neighbours.
//!
//! Takes the parsed [`Document`]s and returns a [`Site`]: every document with its URL path, its
//! parent section, the sorted pages and subsections of each section, prev/next within a section,
//! and where each bundle asset goes. Duplicate URLs and unsafe slugs are errors.

use crate::hash::{HashMap, HashSet};
use std::sync::Arc;

use crate::collate::GermanCollator;
use crate::config::Settings;
use crate::error::Diagnostic;
use crate::model::{AssetFile, Delta, Document, Kind, Node, NodeId, Site, SortBy};
use crate::parse::parent_dir;
use crate::slug::slugify;

pub(crate) fn resolve(
    settings: &Settings,
    collator: &GermanCollator,
    docs: Vec<Arc<Document>>,
    assets: Vec<AssetFile>,
    memo: &mut Memo,
) -> (Site, Vec<Diagnostic>) {
    if let Some(site) = memo.reuse_tree(collator, &docs, &assets) {
        return (site, Vec::new());
    }
    memo.inputs = docs.clone();
    memo.assets = assets.clone();
    let print = placement_print(&docs, &assets);
    let parts = partition(settings, docs);
    let previous = memo.placed.take().filter(|p| p.print == print);
    memo.print = None;
    let (placed, diags) = match previous {
        Some(p) if p.nodes.len() == parts.kept.len() => (p.reorder(collator, parts.kept), vec![]),
        _ => place_all(settings, collator, parts.kept, &parts.hidden, assets),
    };
    if diags.is_empty() {
        memo.print = Some(print);
        memo.keyword_docs = parts.keyword_docs.clone();
    }
    let Placed {
        nodes,
        home,
        by_rel,
        asset_copies,
        ..
    } = placed;
    (
        Site {
            nodes,
            home,
            by_rel,
            drafts: parts.hidden.drafts,
            intern_excluded: parts.hidden.intern_excluded,
            keyword_docs: parts.keyword_docs,
            asset_copies,
            delta: None,
        },
        diags,
    )
}

/// What resolve keeps for the next run (the dev server): the tree of the last run that placed
/// every document, to be sorted again if nothing that places a document changed.
#[derive(Default)]
pub(crate) struct Memo {
    /// The print of the current run's placement, if it had no problems.
    print: Option<u64>,
    placed: Option<Placed>,
    /// The documents and assets of the last run that placed anew or reordered, and what it
    /// left out: while only the texts below the front matter change, the site stays the same.
    inputs: Vec<Arc<Document>>,
    assets: Vec<AssetFile>,
    keyword_docs: Vec<Arc<Document>>,
    left_out: Option<(HashSet<String>, HashSet<String>)>,
}

impl Memo {
    /// Takes the site back after a successful run, for the next one.
    pub(crate) fn keep(&mut self, site: Site) {
        if let Some(print) = self.print {
            self.placed = Some(Placed {
                print,
                nodes: site.nodes,
                home: site.home,
                by_rel: site.by_rel,
                asset_copies: site.asset_copies,
            });
            self.left_out = Some((site.drafts, site.intern_excluded));
        }
    }

    /// The last run's site with this run's documents, if every document that changed stays
    /// where it was: same path, kind, slug, `intern` and `draft`, in the tree, and the same
    /// assets. Only the sections whose children's order may have changed (a title, weight,
    /// date or `sort_by`) are sorted again.
    fn reuse_tree(
        &mut self,
        collator: &GermanCollator,
        docs: &[Arc<Document>],
        assets: &[AssetFile],
    ) -> Option<Site> {
        let placed = self.placed.as_ref()?;
        let same_assets = self.assets.len() == assets.len()
            && (self.assets.iter().zip(assets)).all(|(a, b)| a.rel == b.rel && a.abs == b.abs);
        if self.inputs.len() != docs.len() || !same_assets || self.left_out.is_none() {
            return None;
        }
        let mut swaps = Vec::new();
        for (i, (old, new)) in self.inputs.iter().zip(docs).enumerate() {
            if !Arc::ptr_eq(old, new) {
                let id = placed.by_rel.get(&new.src.rel).copied()?;
                swaps.push((i, id, stays_placed(&placed.nodes[id].doc, old, new)?));
            }
        }
        let mut placed = self.placed.take()?;
        let (drafts, intern_excluded) = self.left_out.take()?;
        self.print = Some(placed.print);
        let mut resort = Vec::new();
        let mut swapped = Vec::with_capacity(swaps.len());
        for (i, id, doc) in swaps {
            let node = &mut placed.nodes[id];
            if node.doc.fm != doc.fm {
                if node.doc.fm.title != doc.fm.title {
                    node.title_key = collator.sort_key(&doc.fm.title);
                }
                resort.extend(node.parent);
                if node.is_section() {
                    resort.push(id);
                }
            }
            swapped.push((id, std::mem::replace(&mut node.doc, doc)));
            self.inputs[i] = docs[i].clone();
        }
        swapped.sort_unstable_by_key(|(id, _)| *id);
        resort.sort_unstable();
        resort.dedup();
        for &section in &resort {
            sort_children(&mut placed.nodes, section);
        }
        Some(Site {
            nodes: placed.nodes,
            home: placed.home,
            by_rel: placed.by_rel,
            drafts,
            intern_excluded,
            keyword_docs: self.keyword_docs.clone(),
            asset_copies: placed.asset_copies,
            delta: Some(Delta {
                swapped,
                resorted: resort,
            }),
        })
    }
}

/// The placed nodes (URLs, parents, assets) and where they are.
struct Placed {
    print: u64,
    nodes: Vec<Node>,
    home: NodeId,
    by_rel: HashMap<String, NodeId>,
    asset_copies: Vec<(AssetFile, String)>,
}

/// A print of everything that decides where a document goes and whether it is in the build:
/// source paths, kinds, slugs, `intern` and `draft`, and the assets. Titles, weights and
/// dates only order the tree ([`link_children`]), which runs every time.
fn placement_print(docs: &[Arc<Document>], assets: &[AssetFile]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = crate::model::print_hasher();
    for d in docs {
        let slug = d.fm.slug.as_ref().map(|s| &s.value);
        (
            &d.src.rel,
            d.kind == Kind::Section,
            slug,
            d.fm.intern,
            d.fm.draft,
        )
            .hash(&mut h);
    }
    for a in assets {
        (&a.rel, &a.abs).hash(&mut h);
    }
    h.finish()
}

/// Places every document and asset anew.
fn place_all(
    settings: &Settings,
    collator: &GermanCollator,
    kept: Vec<Arc<Document>>,
    hidden: &Hidden,
    assets: Vec<AssetFile>,
) -> (Placed, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut tree = Tree::default();
    for doc in kept {
        if let Err(d) = tree.place(settings, collator, doc) {
            diags.push(d);
        }
    }
    link_children(&mut tree.nodes);
    let home = tree
        .by_rel
        .get("_index.md")
        .copied()
        .unwrap_or(NodeId::new(0));
    let asset_copies = tree.place_assets(settings, hidden, assets, &mut diags);
    let placed = Placed {
        print: 0,
        nodes: tree.nodes,
        home,
        by_rel: tree.by_rel,
        asset_copies,
    };
    (placed, diags)
}

impl Placed {
    /// The same tree with this run's documents (in the same order), sorted again.
    fn reorder(mut self, collator: &GermanCollator, kept: Vec<Arc<Document>>) -> Placed {
        for (node, doc) in self.nodes.iter_mut().zip(kept) {
            if node.doc.fm.title != doc.fm.title {
                node.title_key = collator.sort_key(&doc.fm.title);
            }
            node.doc = doc;
            node.pages.clear();
            node.subsections.clear();
            node.prev = None;
            node.next = None;
        }
        link_children(&mut self.nodes);
        self
    }
}

/// The documents of this build, sorted for placing, and what is left out of it.
struct Partition {
    kept: Vec<Arc<Document>>,
    keyword_docs: Vec<Arc<Document>>,
    hidden: Hidden,
}

/// What is left out of this build, for deciding about assets and for clearer link errors.
struct Hidden {
    drafts: HashSet<String>,
    intern_excluded: HashSet<String>,
    /// Folders whose section is internal: everything below them is internal too.
    intern_dirs: Vec<String>,
    /// Every document's source path.
    all_rels: HashSet<String>,
}

impl Hidden {
    fn under_intern(&self, rel: &str) -> bool {
        self.intern_dirs
            .iter()
            .any(|dir| dir.is_empty() || rel.starts_with(&format!("{dir}/")))
    }
}

/// Sorts the documents into kept (sections first, shallow to deep, so that a page's parent
/// always exists already), keyword texts, drafts and internal ones; internal sections make
/// everything below them internal.
fn partition(settings: &Settings, docs: Vec<Arc<Document>>) -> Partition {
    let kw_prefix = format!("{}/", settings.keywords.path);
    let mut hidden = Hidden {
        drafts: HashSet::default(),
        intern_excluded: HashSet::default(),
        intern_dirs: docs
            .iter()
            .filter(|d| d.kind == Kind::Section && d.fm.intern)
            .map(|d| parent_dir(&d.src.rel).to_string())
            .collect(),
        all_rels: docs.iter().map(|d| d.src.rel.clone()).collect(),
    };
    let mut keyword_docs = Vec::new();
    let mut kept = Vec::new();
    for mut d in docs {
        if !d.fm.intern && hidden.under_intern(&d.src.rel) {
            Arc::make_mut(&mut d).fm.intern = true;
        }
        if d.fm.intern && !settings.target.include_intern {
            hidden.intern_excluded.insert(d.src.rel.clone());
        } else if d.fm.draft && !settings.drafts {
            hidden.drafts.insert(d.src.rel.clone());
        } else if d.src.rel.starts_with(&kw_prefix) {
            keyword_docs.push(d);
        } else {
            kept.push(d);
        }
    }
    // Keys made once, and by reference (the dev server runs this on every edit); source
    // paths are unique, so the order is total.
    let mut order: Vec<(bool, usize, &str, usize)> = kept
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let rel = d.src.rel.as_str();
            (d.kind != Kind::Section, rel.matches('/').count(), rel, i)
        })
        .collect();
    order.sort_unstable();
    let ids: Vec<usize> = order.into_iter().map(|(.., i)| i).collect();
    let mut slots: Vec<Option<Arc<Document>>> = kept.into_iter().map(Some).collect();
    let mut kept: Vec<Arc<Document>> = ids.into_iter().filter_map(|i| slots[i].take()).collect();
    if !kept.iter().any(|d| d.src.rel == "_index.md") {
        kept.insert(0, Arc::new(synthetic_home(settings)));
    }
    Partition {
        kept,
        keyword_docs,
        hidden,
    }
}

/// The nodes placed so far, with the indexes that place the next ones.
#[derive(Default)]
struct Tree {
    nodes: Vec<Node>,
    section_of_dir: HashMap<String, NodeId>,
    by_path: HashMap<String, NodeId>,
    by_rel: HashMap<String, NodeId>,
}

/// Where a document goes: the folder whose section is its parent, and the URL segment it adds.
struct Place {
    dir: String,
    is_bundle: bool,
    parent_dir: Option<String>,
    segment: Option<String>,
}

impl Tree {
    /// Adds one document as a node, or says why it cannot have a URL.
    fn place(
        &mut self,
        settings: &Settings,
        collator: &GermanCollator,
        doc: Arc<Document>,
    ) -> Result<(), Diagnostic> {
        let place = place_of(&doc, &self.section_of_dir)?;
        let (parent, base) = match &place.parent_dir {
            None => (None, "/".to_string()),
            Some(pd) => (
                nearest_section(&self.section_of_dir, pd),
                dir_path(&self.section_of_dir, &self.nodes, pd),
            ),
        };
        let path = match &place.segment {
            Some(seg) => format!("{base}{seg}/"),
            None => base,
        };
        self.check_path(settings, &doc, &path)?;
        let id = NodeId::new(self.nodes.len());
        if doc.kind == Kind::Section {
            self.section_of_dir.insert(place.dir.clone(), id);
        } else if place.is_bundle {
            // Bundle assets live in the bundle's folder.
            self.section_of_dir
                .entry(format!("\u{0}bundle:{}", place.dir))
                .or_insert(id);
        }
        self.by_path.insert(path.clone(), id);
        self.by_rel.insert(doc.src.rel.clone(), id);
        let title_key = collator.sort_key(&doc.fm.title);
        self.nodes.push(Node {
            doc,
            path,
            parent,
            pages: Vec::new(),
            subsections: Vec::new(),
            prev: None,
            next: None,
            assets: Vec::new(),
            title_key,
        });
        Ok(())
    }

    /// A new node's URL must be safe, unique and outside the keyword pages.
    fn check_path(
        &self,
        settings: &Settings,
        doc: &Document,
        path: &str,
    ) -> Result<(), Diagnostic> {
        if let Some(d) = check_page_path(doc, path) {
            return Err(d);
        }
        if let Some(&other) = self.by_path.get(path) {
            let o: &Node = &self.nodes[other];
            return Err(Diagnostic::error(
                &doc.src.shown,
                format!(
                    "URL {path} is also the URL of {}",
                    o.doc.src.shown.display()
                ),
            )
            .with_hint("two files give the same address; rename one or set a different slug"));
        }
        let keywords = format!("/{}/", settings.keywords.path);
        if path.starts_with(&keywords) {
            return Err(Diagnostic::error(
                &doc.src.shown,
                format!("URL {path} is reserved for the keyword pages"),
            )
            .with_hint(format!(
                "keyword descriptions go in content/{}/<keyword-slug>.md; rename this file or set a different slug",
                settings.keywords.path
            )));
        }
        Ok(())
    }

    /// Assets go beside the page bundle or section of their folder, else keep their path; an
    /// asset is as unpublished as the page or section it belongs to.
    fn place_assets(
        &mut self,
        settings: &Settings,
        hidden: &Hidden,
        assets: Vec<AssetFile>,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<(AssetFile, String)> {
        let kw_prefix = format!("{}/", settings.keywords.path);
        let mut asset_copies = Vec::new();
        for a in assets {
            let owner = owner_of(&crate::slug::nfc(&a.rel), &hidden.all_rels);
            let left_out = owner
                .as_ref()
                .is_some_and(|o| hidden.drafts.contains(o) || hidden.intern_excluded.contains(o));
            if left_out || (!settings.target.include_intern && hidden.under_intern(&a.rel)) {
                continue;
            }
            let dir = parent_dir(&a.rel).to_string();
            let name = a.rel.rsplit('/').next().unwrap_or("").to_string();
            let owner = self
                .section_of_dir
                .get(&format!("\u{0}bundle:{dir}"))
                .or_else(|| self.section_of_dir.get(&dir))
                .copied();
            let dest = match owner {
                Some(o) => format!("{}{name}", &self.nodes[o].path[1..]),
                None => a.rel.clone(),
            };
            if a.rel.starts_with(&kw_prefix) {
                continue;
            }
            if let Some(d) = check_asset_path(&a, &dest) {
                diags.push(d);
                continue;
            }
            if let Some(o) = owner {
                self.nodes[o].assets.push(dest.clone());
            }
            asset_copies.push((a, dest));
        }
        asset_copies
    }
}

/// The document to put into the node of `old` (whose node holds `placed`) for `new`, if `new`
/// is placed where `old` was. A page below an internal section holds its document marked
/// internal (see [`partition`]); `new` gets the same mark.
fn stays_placed(
    placed: &Arc<Document>,
    old: &Arc<Document>,
    new: &Arc<Document>,
) -> Option<Arc<Document>> {
    let marked = placed.fm.intern && !old.fm.intern;
    if !(Arc::ptr_eq(placed, old) || (marked && placed.src.rel == old.src.rel)) {
        return None;
    }
    let slug = |d: &Document| d.fm.slug.as_ref().map(|s| s.value.clone());
    let same = old.src.rel == new.src.rel
        && old.kind == new.kind
        && slug(old) == slug(new)
        && old.fm.intern == new.fm.intern
        && old.fm.draft == new.fm.draft;
    if !same {
        return None;
    }
    let mut doc = new.clone();
    if marked {
        Arc::make_mut(&mut doc).fm.intern = true;
    }
    Some(doc)
}

/// Children lists, sorted; prev/next within each section.
fn link_children(nodes: &mut [Node]) {
    for id in NodeId::all(nodes.len()) {
        if let Some(p) = nodes[id].parent {
            if nodes[id].is_section() {
                nodes[p].subsections.push(id);
            } else {
                nodes[p].pages.push(id);
            }
        }
    }
    for id in NodeId::all(nodes.len()) {
        if nodes[id].is_section() {
            sort_children(nodes, id);
        }
    }
}

/// Sorts a section's pages (prev/next with them) and subsections.
fn sort_children(nodes: &mut [Node], id: NodeId) {
    let mut pages = std::mem::take(&mut nodes[id].pages);
    sort_pages(nodes, &mut pages, nodes[id].doc.fm.sort_by);
    for (i, &p) in pages.iter().enumerate() {
        nodes[p].prev = i.checked_sub(1).map(|j| pages[j]);
        nodes[p].next = pages.get(i + 1).copied();
    }
    nodes[id].pages = pages;
    let mut subs = std::mem::take(&mut nodes[id].subsections);
    sort_pages(nodes, &mut subs, SortBy::Weight);
    nodes[id].subsections = subs;
}

/// Where a document goes (see [`Place`]); a bundle in a section's folder, an invalid slug or a
/// name without letters is an error.
fn place_of(doc: &Document, section_of_dir: &HashMap<String, NodeId>) -> Result<Place, Diagnostic> {
    let dir = parent_dir(&doc.src.rel).to_string();
    let stem = doc
        .src
        .rel
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim_end_matches(".md")
        .to_string();
    let is_bundle = doc.kind == Kind::Page && stem == "index";
    if is_bundle && section_of_dir.contains_key(&dir) {
        return Err(Diagnostic::error(
            &doc.src.shown,
            "a folder cannot hold both _index.md and index.md",
        )
        .with_hint(
            "use _index.md for a section with pages, index.md for a single page with its files",
        ));
    }
    let last = || dir.rsplit('/').next().unwrap_or("").to_string();
    let (parent_dir_of_doc, own_segment) = match (doc.kind, is_bundle) {
        (Kind::Section, _) if dir.is_empty() => (None, None),
        (Kind::Section, _) | (Kind::Page, true) => {
            (Some(parent_dir(&dir).to_string()), Some(last()))
        }
        (Kind::Page, false) => (Some(dir.clone()), Some(stem)),
    };
    let segment = match (&doc.fm.slug, own_segment) {
        (Some(slug), _) => Some(check_slug(&slug.value).map_err(|hint| {
            Diagnostic::error(&doc.src.shown, format!("invalid slug `{}`", slug.value))
                .at(&doc.src.text, slug.offset)
                .with_hint(hint)
        })?),
        (None, Some(seg)) => {
            let s = slugify(&seg);
            if s.is_empty() {
                return Err(Diagnostic::error(
                    &doc.src.shown,
                    format!("cannot make a URL from the name `{seg}`"),
                )
                .with_hint(
                    "rename the file or folder using letters or digits, or set slug = \"…\"",
                ));
            }
            Some(s)
        }
        (None, None) => None,
    };
    Ok(Place {
        dir,
        is_bundle,
        parent_dir: parent_dir_of_doc,
        segment,
    })
}

/// The Markdown file an asset belongs to (content-relative), if any: a page `<stem>.md` in
/// the same folder whose stem plus "." starts the file's name (`bericht.pdf`,
/// `bericht.de.pdf` belong to `bericht.md`; the longest such stem wins); else the nearest
/// folder, from the file's own upwards, that is a page bundle (`index.md`), a section
/// (`_index.md`) or the folder of a page of the same name (`bericht/` beside `bericht.md`).
fn owner_of(rel: &str, docs: &HashSet<String>) -> Option<String> {
    let dir = parent_dir(rel);
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let in_dir = |file: &str| {
        if dir.is_empty() {
            file.to_string()
        } else {
            format!("{dir}/{file}")
        }
    };
    let by_stem = name
        .match_indices('.')
        .map(|(i, _)| &name[..i])
        .filter(|stem| !stem.is_empty() && *stem != "index" && *stem != "_index")
        .map(|stem| in_dir(&format!("{stem}.md")))
        .rfind(|md| docs.contains(md));
    if by_stem.is_some() {
        return by_stem;
    }
    let mut d = dir;
    loop {
        let prefix = if d.is_empty() {
            String::new()
        } else {
            format!("{d}/")
        };
        let mut candidates = vec![format!("{prefix}index.md"), format!("{prefix}_index.md")];
        if !d.is_empty() {
            candidates.push(format!("{d}.md"));
        }
        if let Some(c) = candidates.into_iter().find(|c| docs.contains(c)) {
            return Some(c);
        }
        if d.is_empty() {
            return None;
        }
        d = parent_dir(d);
    }
}

/// A page's URL must give a file name on every file system: each segment checked, and the
/// whole path. At the `slug` key if the page's own segment is at fault and came from there,
/// else at the start of the file.
fn check_page_path(doc: &Document, path: &str) -> Option<Diagnostic> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let file = format!("{}index.html", &path[1..]);
    let (reason, own) = match segments
        .iter()
        .enumerate()
        .find_map(|(i, s)| crate::slug::unsafe_segment(s).map(|r| (r, i + 1 == segments.len())))
    {
        Some(found) => found,
        None if file.len() > crate::slug::MAX_PATH_BYTES => (
            format!(
                "the output path is {} bytes long; at most {} are allowed",
                file.len(),
                crate::slug::MAX_PATH_BYTES
            ),
            true,
        ),
        None => return None,
    };
    let offset = match (&doc.fm.slug, own) {
        (Some(slug), true) => slug.offset,
        _ => 0,
    };
    Some(
        Diagnostic::error(
            &doc.src.shown,
            format!("URL {} cannot be written: {reason}", shorten(path)),
        )
        .at(&doc.src.text, offset)
        .with_hint("rename the file or folder, or set a different slug = \"…\""),
    )
}

/// A path for a message: an overlong one cut to its start.
fn shorten(path: &str) -> String {
    const SHOWN: usize = 60;
    match path.char_indices().nth(SHOWN) {
        Some((i, _)) => format!("{}…", &path[..i]),
        None => path.to_string(),
    }
}

/// An asset's output path must be a file name on every file system too.
fn check_asset_path(a: &AssetFile, dest: &str) -> Option<Diagnostic> {
    let reason = dest
        .split('/')
        .find_map(crate::slug::unsafe_segment)
        .or_else(|| {
            (dest.len() > crate::slug::MAX_PATH_BYTES).then(|| {
                format!(
                    "the output path is {} bytes long; at most {} are allowed",
                    dest.len(),
                    crate::slug::MAX_PATH_BYTES
                )
            })
        })?;
    Some(
        Diagnostic::error(
            std::path::Path::new("content").join(&a.rel),
            format!("file {} cannot be published: {reason}", shorten(dest)),
        )
        .with_hint("rename the file or its folder"),
    )
}

fn synthetic_home(settings: &Settings) -> Document {
    Document {
        src: crate::model::SourceFile::new(
            "_index.md".into(),
            "content/_index.md".into(),
            String::new(),
        ),
        kind: Kind::Section,
        fm: crate::model::FrontMatter {
            title: settings.title.clone(),
            description: settings.description.clone(),
            ..Default::default()
        },
        body_offset: 0,
    }
}

/// A slug must be one URL segment; anything that could climb out of the output is refused.
fn check_slug(slug: &str) -> Result<String, String> {
    let s = slugify(slug);
    if slug.contains(['/', '\\']) || slug.contains("..") || slug.starts_with('~') {
        return Err(format!(
            "a slug is one URL segment without / or ..{}",
            if s.is_empty() {
                String::new()
            } else {
                format!("; e.g. slug = \"{s}\"")
            }
        ));
    }
    if s.is_empty() {
        return Err("use letters, digits and hyphens, e.g. slug = \"mein-projekt\"".into());
    }
    Ok(s)
}

fn nearest_section(section_of_dir: &HashMap<String, NodeId>, dir: &str) -> Option<NodeId> {
    let mut d = dir;
    loop {
        if let Some(&id) = section_of_dir.get(d) {
            return Some(id);
        }
        if d.is_empty() {
            return None;
        }
        d = parent_dir(d);
    }
}

/// URL path of a folder: its section's path, or its parent's path plus its slugified name.
fn dir_path(section_of_dir: &HashMap<String, NodeId>, nodes: &[Node], dir: &str) -> String {
    if let Some(&id) = section_of_dir.get(dir) {
        return nodes[id].path.clone();
    }
    if dir.is_empty() {
        return "/".into();
    }
    let name = dir.rsplit('/').next().unwrap_or(dir);
    let seg = slugify(name);
    let base = dir_path(section_of_dir, nodes, parent_dir(dir));
    if seg.is_empty() {
        base
    } else {
        format!("{base}{seg}/")
    }
}

pub(crate) fn sort_pages(nodes: &[Node], ids: &mut [NodeId], by: SortBy) {
    let title_cmp = |a: &NodeId, b: &NodeId| {
        nodes[*a]
            .title_key
            .cmp(&nodes[*b].title_key)
            .then_with(|| nodes[*a].path.cmp(&nodes[*b].path))
    };
    match by {
        SortBy::Weight => ids.sort_by(|a, b| {
            nodes[*a]
                .doc
                .fm
                .weight
                .cmp(&nodes[*b].doc.fm.weight)
                .then_with(|| title_cmp(a, b))
        }),
        SortBy::Title => ids.sort_by(title_cmp),
        // Newest first; undated pages last.
        SortBy::Date => ids.sort_by(|a, b| {
            let da = nodes[*a].doc.fm.date;
            let db = nodes[*b].doc.fm.date;
            db.cmp(&da).then_with(|| title_cmp(a, b))
        }),
    }
}

/// Sorts node ids by title (German collation), then path.
pub(crate) fn sort_by_title(nodes: &[Node], ids: &mut [NodeId]) {
    ids.sort_by(|a, b| {
        nodes[*a]
            .title_key
            .cmp(&nodes[*b].title_key)
            .then_with(|| nodes[*a].path.cmp(&nodes[*b].path))
    });
}

/// Every page below a section, recursively, in tree order.
pub(crate) fn all_pages(nodes: &[Node], section: NodeId) -> Vec<NodeId> {
    let mut out = nodes[section].pages.clone();
    for &s in &nodes[section].subsections {
        out.extend(all_pages(nodes, s));
    }
    out
}

/// Ancestors of a node from the home page down to its parent.
pub(crate) fn ancestors(nodes: &[Node], id: NodeId) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut cur = nodes[id].parent;
    while let Some(p) = cur {
        out.push(p);
        cur = nodes[p].parent;
    }
    out.reverse();
    out
}
