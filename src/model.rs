//! The plain data that flows through the pipeline, in one place.
//!
//! Each stage (see `lib.rs` and docs/architecture.md) is a function from the previous stage's
//! value to its own; the values are defined here so that no stage imports another stage's
//! module for its types. Nothing here does work beyond small accessors.

pub(crate) use crate::hash::{HashMap, HashSet};
use std::collections::BTreeMap;
use std::ops::{Index, IndexMut};
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Diagnostic;

// --- Ids: which node, keyword or extra output a value refers to --------------------------

/// Defines an id: a position in one list, typed so that it cannot be mixed up with a count or
/// with another list's position. Lists (`Vec`s and slices) are indexed by it directly. Hashes
/// exactly like the `usize` it holds (the render memo fingerprints ids).
macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub(crate) struct $name(usize);

        // Not every id needs every helper.
        #[allow(dead_code)]
        impl $name {
            pub(crate) const fn new(index: usize) -> Self {
                $name(index)
            }
            pub(crate) const fn index(self) -> usize {
                self.0
            }
            /// Every id of a list of `len` items, in order.
            pub(crate) fn all(len: usize) -> impl DoubleEndedIterator<Item = Self> + ExactSizeIterator {
                (0..len).map($name)
            }
        }

        impl<T> Index<$name> for [T] {
            type Output = T;
            fn index(&self, id: $name) -> &T {
                &self[id.0]
            }
        }
        impl<T> IndexMut<$name> for [T] {
            fn index_mut(&mut self, id: $name) -> &mut T {
                &mut self[id.0]
            }
        }
        impl<T> Index<$name> for Vec<T> {
            type Output = T;
            fn index(&self, id: $name) -> &T {
                &self[id.0]
            }
        }
        impl<T> IndexMut<$name> for Vec<T> {
            fn index_mut(&mut self, id: $name) -> &mut T {
                &mut self[id.0]
            }
        }
    };
}

id!(
    /// A node: its position in [`Site::nodes`], and in every list made per node (the bodies,
    /// [`Keywords::by_node`]).
    NodeId
);
id!(
    /// A keyword: its position in [`Keywords::list`].
    KeywordId
);
id!(
    /// An extra output of a section: its position in the section's [`FrontMatter::outputs`].
    ExtraId
);

// --- Stage 1, load: the files of a site ---------------------------------------------------

/// One Markdown file of `content/`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceFile {
    /// Path relative to `content/`, with `/` separators, e.g. `initiativen/equal/_index.md`.
    pub rel: String,
    /// Path shown in messages, relative to the site root, e.g. `content/initiativen/…`.
    pub shown: PathBuf,
    /// Text without a leading byte order mark; shared, so that the dev server's next run and
    /// the documents made from it need no copy.
    pub text: Arc<str>,
}

impl SourceFile {
    pub(crate) fn new(rel: String, shown: PathBuf, text: String) -> Self {
        SourceFile {
            rel,
            shown,
            text: text.into(),
        }
    }
}

/// A 64-bit fingerprint of a value (the same within one process).
pub(crate) fn fingerprint<T: std::hash::Hash + ?Sized>(v: &T) -> u64 {
    use std::hash::BuildHasher;
    // Fixed seed: equal inputs give equal prints for the whole process. foldhash, not SipHash:
    // the dev server prints every page's inputs on every edit.
    PRINTS.hash_one(v)
}

const PRINTS: foldhash::quality::FixedState =
    foldhash::quality::FixedState::with_seed(0x7765_6777_6569_7365);

/// A hasher for a [`fingerprint`] made piece by piece.
pub(crate) fn print_hasher() -> impl std::hash::Hasher {
    use std::hash::BuildHasher;
    PRINTS.build_hasher()
}

/// A non-Markdown file of `content/` (page bundle assets), copied beside its page.
#[derive(Debug, Clone)]
pub(crate) struct AssetFile {
    pub rel: String,
    pub abs: PathBuf,
}

/// A file copied verbatim to the output root (theme `static/`, then site `static/`).
#[derive(Debug, Clone)]
pub(crate) struct StaticFile {
    pub rel: String,
    pub abs: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Template {
    pub name: String,
    pub shown: PathBuf,
    pub text: String,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Sources {
    pub content: Vec<SourceFile>,
    pub assets: Vec<AssetFile>,
    pub templates: Vec<Template>,
    pub translations: BTreeMap<String, String>,
    pub static_files: Vec<StaticFile>,
}

// --- Stage 2, parse: documents ----------------------------------------------------------------

/// Front matter keys every page understands.
pub(crate) const RESERVED_KEYS: &[&str] = &[
    "title",
    "description",
    "date",
    "updated",
    "draft",
    "weight",
    "slug",
    "template",
    "suchworte",
    "type",
    "extra",
    "sort_by",
    "paginate_by",
    "page_type",
    "outputs",
    "intern",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Section,
    Page,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SortBy {
    #[default]
    Weight,
    Title,
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
    /// DIN 5008 numeric form; language-neutral enough to need no translation string.
    pub fn display(&self) -> String {
        format!("{:02}.{:02}.{:04}", self.day, self.month, self.year)
    }
}

/// A value at a byte offset of its file, for messages about it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At<T> {
    pub value: T,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldValue {
    Text(String),
    List(Vec<String>),
    Money {
        cents: i64,
        currency: String,
    },
    Date(Date),
    Integer(i64),
    Bool(bool),
    /// Markdown source and the byte offset of the string in the file.
    Markdown(At<String>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FrontMatter {
    pub title: String,
    pub description: String,
    pub date: Option<Date>,
    pub updated: Option<Date>,
    pub draft: bool,
    /// Intranet only: left out of every target that does not include internal content. On a
    /// section it covers everything below it.
    pub intern: bool,
    pub weight: i64,
    pub slug: Option<At<String>>,
    pub template: Option<At<String>>,
    pub suchworte: Vec<At<String>>,
    /// The content type of this document (explicit or inherited from a section's `page_type`).
    pub doc_type: Option<String>,
    pub sort_by: SortBy,
    pub paginate_by: usize,
    /// Extra files rendered from the section (e.g. `projekte.csv`), each by the template of
    /// the same name, written beside the section's page.
    pub outputs: Vec<At<String>>,
    pub page_type: Option<String>,
    pub extra: serde_json::Value,
    /// Typed fields in declaration order.
    pub fields: Vec<(String, FieldValue)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub src: SourceFile,
    pub kind: Kind,
    pub fm: FrontMatter,
    /// Byte offset of the body in `src.text`.
    pub body_offset: usize,
}

impl Document {
    pub fn body(&self) -> &str {
        &self.src.text[self.body_offset..]
    }
}

// --- Stage 3, resolve: the site tree -----------------------------------------------------------

#[derive(Debug)]
pub(crate) struct Node {
    /// Shared with the parse stage's memo (the dev server keeps it for the next run).
    pub doc: Arc<Document>,
    /// URL path, starting and ending with `/`, e.g. `/initiativen/equal/`.
    pub path: String,
    pub parent: Option<NodeId>,
    /// Direct pages of a section, in the section's sort order.
    pub pages: Vec<NodeId>,
    /// Direct subsections, by weight then title.
    pub subsections: Vec<NodeId>,
    pub prev: Option<NodeId>,
    pub next: Option<NodeId>,
    /// Output-relative paths of this document's bundle assets.
    pub assets: Vec<String>,
    /// Collation sort key of the title: sorting by title compares these bytes.
    pub title_key: Vec<u8>,
}

impl Node {
    pub fn is_section(&self) -> bool {
        self.doc.kind == Kind::Section
    }
}

#[derive(Debug)]
pub(crate) struct Site {
    pub nodes: Vec<Node>,
    pub home: NodeId,
    /// Content-relative source path → node.
    pub by_rel: HashMap<String, NodeId>,
    /// Source paths of drafts left out of this build, for clearer link errors.
    pub drafts: HashSet<String>,
    /// Source paths of internal documents left out of this target's build.
    pub intern_excluded: HashSet<String>,
    /// `content/<keyword path>/*.md`: the keyword index text and per-keyword descriptions.
    pub keyword_docs: Vec<Arc<Document>>,
    /// (source asset, output-relative destination).
    pub asset_copies: Vec<(AssetFile, String)>,
    /// What changed since the dev server's last successful run, when resolve reused that
    /// run's tree; `None`: anything may have (a build, or a run that placed anew).
    pub delta: Option<Delta>,
}

/// The difference between this run's site and the last successful run's, when every node
/// kept its place: the same nodes, ids, paths, drafts and internal documents, keyword files
/// and assets. Only the listed nodes have another document (and maybe their section another
/// order). The stages after resolve use it to do only the work for these nodes.
#[derive(Debug, Default)]
pub(crate) struct Delta {
    /// (node, the document it had in the last run), in id order.
    pub swapped: Vec<(NodeId, Arc<Document>)>,
    /// The sections whose children were sorted again (their order, and the pages' neighbours,
    /// may differ), in id order.
    pub resorted: Vec<NodeId>,
}

// --- Stage 4, links: rendered Markdown --------------------------------------------------------

#[derive(Debug, Default, Clone)]
pub(crate) struct Body {
    pub html: String,
    pub toc: Vec<TocEntry>,
    pub summary: String,
    pub word_count: usize,
    /// HTML of the document's Markdown fields, by field name.
    pub field_html: Vec<(String, String)>,
    /// Nodes that link here, without duplicates, sorted by title (German collation).
    pub backlinks: Vec<NodeId>,
    /// Internal links written here: (byte offset in the file, target).
    pub links: Vec<(usize, LinkTarget)>,
    /// Heading and footnote ids of the body (the theme's ids are in `links::Env`).
    pub anchors: Vec<String>,
    /// Where each link with an `#anchor` is written (position and source line, message
    /// empty), when the source text is freed before the anchor check (a build).
    pub anchor_places: Vec<(usize, Diagnostic)>,
    /// A fingerprint of what the node's pages show of the Markdown (HTML, table of contents,
    /// summary, fields), for the render stage's record of what an output read.
    pub hash: u64,
}

// --- Stage 5, taxonomy: Suchworte -------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct Keyword {
    pub name: String,
    pub slug: String,
    /// Pages carrying it, sorted by title (German collation).
    pub pages: Vec<NodeId>,
    /// Co-occurring keywords and how many pages they share.
    pub related: Vec<(KeywordId, usize)>,
    pub see_also: Vec<KeywordId>,
    /// `content/<keywords.path>/<slug>.md`, if the editors wrote one.
    pub description: Option<Arc<Document>>,
}

#[derive(Debug, Default)]
pub(crate) struct Keywords {
    /// In German collation order.
    pub list: Vec<Keyword>,
    /// For each node (by [`NodeId`]), its keywords in collation order.
    pub by_node: Vec<Vec<KeywordId>>,
    /// `content/<keywords.path>/_index.md`: title and text of the index page.
    pub index_doc: Option<Arc<Document>>,
}

/// HTML of the keyword description pages, rendered by the links stage.
#[derive(Debug, Default)]
pub(crate) struct KeywordHtml {
    pub index: String,
    pub index_title: Option<String>,
    pub index_description: String,
    pub descriptions: HashMap<KeywordId, String>,
}

// --- Markdown rendering results, read by stage 4 and the templates ------------------------------

/// Where an internal link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkTarget {
    /// The href to write, including "#anchor" if any.
    pub(crate) url: String,
    /// The target page.
    pub(crate) page: NodeId,
    pub(crate) anchor: Option<String>,
}

/// One heading in the table of contents.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, Hash)]
pub(crate) struct TocEntry {
    pub(crate) level: u8,
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) children: Vec<TocEntry>,
}

/// Folder of the search index (Pagefind's bundle) in the output.
pub(crate) const BUNDLE_DIR: &str = "pagefind";

// --- Stage 6, render (and 7, publish; search): files to write ------------------------------

/// A file to write, relative to the output directory. The bytes are shared: the dev server
/// serves them and keeps them for its next run without a copy.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub rel: Arc<str>,
    pub bytes: Arc<Vec<u8>>,
    /// The source this file was made from, for collision messages.
    pub source: Arc<std::path::Path>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_hashes_like_its_position() {
        // The render memo's fingerprints hash ids; they must stay what a `usize` gave.
        assert_eq!(fingerprint(&NodeId::new(7)), fingerprint(&7usize));
        assert_eq!(fingerprint(&KeywordId::new(3)), fingerprint(&3usize));
        assert_ne!(fingerprint(&NodeId::new(7)), fingerprint(&NodeId::new(8)));
    }

    #[test]
    fn lists_are_indexed_by_ids() {
        let mut v = Vec::from(["a", "b", "c"]);
        let id = NodeId::new(1);
        assert_eq!(v[id], "b");
        v[id] = "x";
        assert_eq!(v[..][id], "x");
        let ids: Vec<usize> = NodeId::all(3).map(NodeId::index).collect();
        assert_eq!(ids, [0, 1, 2]);
    }
}
