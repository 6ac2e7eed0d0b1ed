//! What each output read, and the memo that lets the dev server's next run re-render exactly
//! the outputs whose inputs changed.
//!
//! Every read of the site goes through [`Ctx`]; with a recorder attached, each method notes
//! what it read ([`Read`]). Each kind of read has a fingerprint, defined in `views.rs` beside
//! the view it feeds, over the same fields the view prints. An output is reused when the
//! fingerprints of everything it read (and of the templates, translations and settings, which
//! every output reads) are unchanged; else it is rendered again.

use crate::hash::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

use super::views::Ctx;
use super::{Job, Templates};
use crate::model::{fingerprint, Body, Document, KeywordHtml, KeywordId, NodeId, Output};

/// One thing a job read, by node or keyword id (valid while the node and keyword lists stay
/// the same; the memo is emptied when they change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Read {
    /// A node's title and URL.
    Link(NodeId),
    /// What a listing shows of a node, but for its summary text.
    Summary(NodeId),
    /// A node's summary text (where a template printed or tested it: [`note_texts`]).
    SummaryText(NodeId),
    /// Everything of a node.
    Page(NodeId),
    /// A keyword's name, URL and count.
    KeywordRef(KeywordId),
    /// Everything of a keyword.
    Keyword(KeywordId),
    /// Which node is below which (for `all_pages`).
    Tree,
}

/// The reads of one job, written by [`Ctx`]'s methods.
#[derive(Debug, Default)]
pub(super) struct Recorder(Mutex<Vec<Read>>);

impl Recorder {
    pub(super) fn note(&self, r: Read) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(r);
    }

    fn take(&self) -> Vec<Read> {
        let mut reads = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        reads.sort_unstable();
        reads.dedup();
        reads
    }
}

/// The fingerprints of everything an output can read, in this run.
pub(super) struct Prints {
    link: Vec<u64>,
    summary: Vec<u64>,
    summary_text: Vec<u64>,
    page: Vec<u64>,
    keyword_ref: Vec<u64>,
    keyword: Vec<u64>,
    tree: u64,
    /// Settings, translations, templates, the `site` view, the keyword index texts.
    global: u64,
}

/// A node's [`Ctx::summary_text_print`] and [`Ctx::text_print`] with the document and body
/// they were made from (kept, so that the same pointers mean the same texts).
struct TextPrint {
    doc: Arc<Document>,
    body: Arc<Body>,
    print: u64,
    text: u64,
}

/// Each node's text prints (summary view, summary text) and the nodes whose prints were
/// made anew.
type TextPrints = (Vec<u64>, Vec<u64>, Vec<NodeId>);

/// Each node's text prints: the kept ones where the node has the same document and body, else
/// made; `kept` is updated.
fn text_prints(ctx: &Ctx<'_>, kept: &mut Vec<TextPrint>) -> TextPrints {
    let n = ctx.node_count();
    if kept.len() != n {
        kept.clear();
    }
    let made: Vec<Option<(u64, u64)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let id = NodeId::new(i);
            let (doc, body) = ctx.texts_of(id);
            let same = kept
                .get(i)
                .is_some_and(|t| Arc::ptr_eq(&t.doc, doc) && Arc::ptr_eq(&t.body, body));
            (!same).then(|| (ctx.summary_text_print(id), ctx.text_print(id)))
        })
        .collect();
    let mut remade = Vec::new();
    for (i, m) in made.into_iter().enumerate() {
        let Some((print, text)) = m else { continue };
        remade.push(NodeId::new(i));
        let (doc, body) = ctx.texts_of(NodeId::new(i));
        let t = TextPrint {
            doc: doc.clone(),
            body: body.clone(),
            print,
            text,
        };
        match kept.get_mut(i) {
            Some(k) => *k = t,
            None => kept.push(t),
        }
    }
    let prints = kept.iter().map(|t| t.print).collect();
    (prints, kept.iter().map(|t| t.text).collect(), remade)
}

impl Prints {
    /// This run's prints; `texts`: the memo's summary text prints, updated; `prev`: the last
    /// run's prints.
    fn new(ctx: &Ctx<'_>, global: u64, texts: &mut Vec<TextPrint>, prev: Option<&Prints>) -> Self {
        let (text, summary_text, remade) = text_prints(ctx, texts);
        let keyword_ref: Vec<u64> = KeywordId::all(ctx.keyword_count())
            .map(|k| ctx.keyword_ref_print(k))
            .collect();
        // With the site's delta (the last run was a clean one of the same nodes) and the same
        // keywords, only the nodes the delta touched can have other prints.
        let same = |p: &&Prints| p.keyword_ref == keyword_ref && p.link.len() == text.len();
        let update = prev.filter(same).zip(ctx.touched(&remade));
        let (link, summary, page) = match &update {
            Some((prev, touched)) => {
                node_prints_of(ctx, prev, touched, (&text, &summary_text), &keyword_ref)
            }
            None => node_prints(ctx, (&text, &summary_text), &keyword_ref),
        };
        let keyword = KeywordId::all(ctx.keyword_count())
            .map(|k| ctx.keyword_print(k, &keyword_ref))
            .collect();
        let tree = match update {
            Some((prev, _)) if !ctx.resorted() => prev.tree,
            _ => ctx.tree_print(),
        };
        Prints {
            link,
            summary,
            summary_text,
            page,
            keyword_ref,
            keyword,
            tree,
            global,
        }
    }

    /// What changed since `prev` (the last run's): `None` if everything may have (what every
    /// output reads, or the number of nodes or keywords, differs), else the reads whose
    /// fingerprint differs.
    fn changed_since(&self, prev: &Prints) -> Option<Vec<Read>> {
        if self.global != prev.global
            || self.link.len() != prev.link.len()
            || self.keyword.len() != prev.keyword.len()
        {
            return None;
        }
        let mut changed = Vec::new();
        let mut diff = |new: &[u64], old: &[u64], read: fn(usize) -> Read| {
            let differ = new.iter().zip(old).enumerate().filter(|(_, (a, b))| a != b);
            changed.extend(differ.map(|(i, _)| read(i)));
        };
        diff(&self.link, &prev.link, |i| Read::Link(NodeId::new(i)));
        diff(&self.summary, &prev.summary, |i| {
            Read::Summary(NodeId::new(i))
        });
        diff(&self.summary_text, &prev.summary_text, |i| {
            Read::SummaryText(NodeId::new(i))
        });
        diff(&self.page, &prev.page, |i| Read::Page(NodeId::new(i)));
        diff(&self.keyword_ref, &prev.keyword_ref, |i| {
            Read::KeywordRef(KeywordId::new(i))
        });
        diff(&self.keyword, &prev.keyword, |i| {
            Read::Keyword(KeywordId::new(i))
        });
        if self.tree != prev.tree {
            changed.push(Read::Tree);
        }
        Some(changed)
    }

    /// What each node's listed summary value is made from: its summary and summary text prints.
    fn listed(&self) -> Vec<(u64, u64)> {
        (self.summary.iter().copied())
            .zip(self.summary_text.iter().copied())
            .collect()
    }

    /// The fingerprint of everything `reads` names, with what every output reads.
    fn of(&self, reads: &[Read]) -> u64 {
        use std::hash::Hasher;
        let get = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(u64::MAX);
        let mut h = crate::model::print_hasher();
        h.write_u64(self.global);
        for r in reads {
            h.write_u64(match *r {
                Read::Link(n) => get(&self.link, n.index()),
                Read::Summary(n) => get(&self.summary, n.index()),
                Read::SummaryText(n) => get(&self.summary_text, n.index()),
                Read::Page(n) => get(&self.page, n.index()),
                Read::KeywordRef(k) => get(&self.keyword_ref, k.index()),
                Read::Keyword(k) => get(&self.keyword, k.index()),
                Read::Tree => self.tree,
            });
        }
        h.finish()
    }
}

/// Each node's link, summary and page prints.
type NodePrints = (Vec<u64>, Vec<u64>, Vec<u64>);

/// Every node's link, summary and page prints (in parallel: all of them, on every run).
fn node_prints(ctx: &Ctx<'_>, texts: (&[u64], &[u64]), refs: &[u64]) -> NodePrints {
    let (text, summary_text) = texts;
    // Positions, not ids: a range splits for rayon.
    let nodes = 0..ctx.node_count();
    let link: Vec<u64> = (nodes.clone().into_par_iter())
        .map(|n| ctx.link_print(NodeId::new(n)))
        .collect();
    let summary: Vec<u64> = (nodes.clone().into_par_iter())
        .map(|n| ctx.summary_print(NodeId::new(n), text[n], &link, refs))
        .collect();
    let page = (nodes.into_par_iter())
        .map(|n| ctx.page_print(NodeId::new(n), &summary, summary_text))
        .collect();
    (link, summary, page)
}

/// `prev`'s node prints with those of the `touched` nodes made anew.
fn node_prints_of(
    ctx: &Ctx<'_>,
    prev: &Prints,
    touched: &[NodeId],
    texts: (&[u64], &[u64]),
    refs: &[u64],
) -> NodePrints {
    let (text, summary_text) = texts;
    let mut link = prev.link.clone();
    for &t in touched {
        link[t.index()] = ctx.link_print(t);
    }
    let mut summary = prev.summary.clone();
    for &t in touched {
        summary[t.index()] = ctx.summary_print(t, text[t.index()], &link, refs);
    }
    let mut page = prev.page.clone();
    for &t in touched {
        page[t.index()] = ctx.page_print(t, &summary, summary_text);
    }
    (link, summary, page)
}

/// What the render stage kept of each output for the next run (the dev server).
#[derive(Default)]
pub(crate) struct Memo {
    /// The nodes' documents (for their source paths) and the keyword slugs the reads' indices
    /// refer to.
    nodes: Vec<Arc<Document>>,
    keywords: Vec<String>,
    outputs: HashMap<Job, Kept>,
    /// Which jobs read what (entries of earlier recordings may remain: they only cost a check).
    readers: HashMap<Read, Vec<Job>>,
    /// Entries in `readers`: the index is made anew from `outputs` when stale entries
    /// outnumber the reads recorded there.
    indexed: usize,
    /// The fingerprints of the last run whose outputs were kept.
    prints: Option<Prints>,
    /// The jobs whose reads may have changed since `prints`: all of them when `None`.
    suspects: Option<HashSet<Job>>,
    /// Listed summaries by node (`Null`: not made), with the summary prints they were made at.
    summaries: Vec<serde_json::Value>,
    summary_prints: Vec<(u64, u64)>,
    /// Each node's summary text print, by node.
    texts: Vec<TextPrint>,
    /// The last run's jobs and outputs in order, if it rendered every job.
    order: Vec<Job>,
    last: Vec<Output>,
}

struct Kept {
    reads: Vec<Read>,
    print: u64,
    output: Output,
}

impl Memo {
    /// Forgets everything if the nodes or keywords are not the ones the reads refer to.
    pub(super) fn sync(&mut self, ctx: &Ctx<'_>) {
        let keywords: Vec<&str> = KeywordId::all(ctx.keyword_count())
            .map(|k| ctx.keyword(k).slug.as_str())
            .collect();
        // Mostly the same documents, whose paths need no comparing; another document at the
        // same path takes the old one's place.
        let same_node = |(kept, n): (&mut Arc<Document>, NodeId)| {
            let doc = ctx.texts_of(n).0;
            let same = Arc::ptr_eq(kept, doc) || kept.src.rel == doc.src.rel;
            if same {
                *kept = doc.clone();
            }
            same
        };
        let same_nodes = self.nodes.len() == ctx.node_count()
            && (self.nodes.iter_mut().zip(NodeId::all(ctx.node_count()))).all(same_node);
        let same_keywords = (self.keywords.iter().map(String::as_str)).eq(keywords.iter().copied());
        if !same_nodes || !same_keywords {
            self.outputs.clear();
            self.readers.clear();
            self.indexed = 0;
            self.prints = None;
            self.summaries.clear();
            self.order.clear();
            self.last.clear();
            self.nodes = NodeId::all(ctx.node_count())
                .map(|n| ctx.texts_of(n).0.clone())
                .collect();
            self.keywords = keywords.into_iter().map(str::to_string).collect();
        }
    }

    /// Notes which jobs read something whose fingerprint changed since the last run (only
    /// these need their reads checked), and keeps this run's fingerprints for the next.
    pub(super) fn compare(&mut self, ctx: &Ctx<'_>, global: u64) {
        let prints = Prints::new(ctx, global, &mut self.texts, self.prints.as_ref());
        let changed = self.prints.as_ref().and_then(|p| prints.changed_since(p));
        self.suspects = changed.map(|reads| {
            let readers = reads.iter().filter_map(|r| self.readers.get(r));
            readers.flatten().copied().collect()
        });
        self.prints = Some(prints);
    }

    /// The listed summaries of the last runs that are still the same (the others `Null`), to
    /// fill for this run and give back with [`Memo::keep_summaries`].
    pub(super) fn take_summaries(&mut self) -> Vec<serde_json::Value> {
        let mut store = std::mem::take(&mut self.summaries);
        let now = self.prints.as_ref().map_or(Vec::new(), Prints::listed);
        store.resize(now.len(), serde_json::Value::Null);
        for (i, v) in store.iter_mut().enumerate() {
            if self.summary_prints.get(i) != now.get(i) {
                *v = serde_json::Value::Null;
            }
        }
        store
    }

    pub(super) fn keep_summaries(&mut self, store: Vec<serde_json::Value>) {
        self.summary_prints = self.prints.as_ref().map_or(Vec::new(), Prints::listed);
        self.summaries = store;
    }

    /// Each job's kept output, if nothing it read changed (`None`: to render). With the same
    /// jobs as the last run, only the suspects are looked up; the others keep its outputs.
    /// The last run's outputs are moved, not copied: [`Memo::finish`] keeps this run's.
    pub(super) fn kept(&mut self, jobs: &[Job]) -> Vec<Option<Output>> {
        let last = std::mem::take(&mut self.last);
        match &self.suspects {
            Some(suspects) if self.order == jobs && last.len() == jobs.len() => {
                (self.order.iter().zip(last))
                    .map(|(job, out)| match suspects.contains(job) {
                        true => self.reusable(job),
                        false => Some(out),
                    })
                    .collect()
            }
            _ => jobs.par_iter().map(|j| self.reusable(j)).collect(),
        }
    }

    /// The kept output of `job`, if nothing it read changed.
    fn reusable(&self, job: &Job) -> Option<Output> {
        let kept = self.outputs.get(job)?;
        let suspect = self.suspects.as_ref().is_none_or(|s| s.contains(job));
        let same = !suspect
            || self
                .prints
                .as_ref()
                .is_some_and(|p| p.of(&kept.reads) == kept.print);
        same.then(|| kept.output.clone())
    }

    /// Keeps what `job` rendered and read; jobs that no longer exist are dropped by `retain`.
    pub(super) fn keep(&mut self, job: Job, output: &Output, recorder: &Recorder) {
        let reads = recorder.take();
        let print = self.prints.as_ref().map_or(0, |p| p.of(&reads));
        self.indexed += index(&mut self.readers, job, &reads);
        self.outputs.insert(
            job,
            Kept {
                reads,
                print,
                output: output.clone(),
            },
        );
    }

    /// Ends a run with these jobs and, if every job rendered, their outputs in order.
    pub(super) fn finish(&mut self, jobs: Vec<Job>, outputs: Option<&[Output]>) {
        if self.order != jobs {
            self.retain(&jobs);
        }
        match outputs {
            Some(outputs) if outputs.len() == jobs.len() => {
                self.order = jobs;
                self.last = outputs.to_vec();
            }
            _ => {
                self.order.clear();
                self.last.clear();
            }
        }
    }

    fn retain(&mut self, jobs: &[Job]) {
        let live: HashSet<&Job> = jobs.iter().collect();
        self.outputs.retain(|j, _| live.contains(j));
        let recorded: usize = self.outputs.values().map(|k| k.reads.len()).sum();
        if self.indexed > 2 * recorded + 1024 {
            self.readers.clear();
            self.indexed = 0;
            for (job, kept) in &self.outputs {
                self.indexed += index(&mut self.readers, *job, &kept.reads);
            }
        }
    }
}

/// Notes `job` as a reader of each of `reads`; how many entries that added.
fn index(readers: &mut HashMap<Read, Vec<Job>>, job: Job, reads: &[Read]) -> usize {
    let mut added = 0;
    for r in reads {
        let jobs = readers.entry(*r).or_default();
        if jobs.last() != Some(&job) {
            jobs.push(job);
            added += 1;
        }
    }
    added
}

/// What every output reads besides the site: settings, translations, templates, the keyword
/// index's texts and the `site` view (menu included).
pub(super) fn global_print(
    ctx: &Ctx<'_>,
    templates: &Templates,
    translations: &std::collections::BTreeMap<String, String>,
    kw_html: &KeywordHtml,
) -> u64 {
    let site = serde_json::to_string(&ctx.site_view()).unwrap_or_default();
    let descriptions: std::collections::BTreeMap<&KeywordId, &String> =
        kw_html.descriptions.iter().collect();
    fingerprint(&(
        format!("{:?}", ctx.settings),
        translations,
        templates.print,
        site,
        ctx.keywords_title(),
        (
            &kw_html.index,
            &kw_html.index_title,
            &kw_html.index_description,
        ),
        descriptions,
    ))
}

/// Notes the summary texts a job read: of the nodes it listed, those whose path the summary
/// filter saw (`seen`, [`super::text_reads`]). Every listed one when the templates are opaque
/// (`None`) or when the filter saw a path that is neither a listed node's nor that of a node
/// the job read whole (then it cannot tell whose text that was).
pub(super) fn note_texts(ctx: &Ctx<'_>, recorder: &Recorder, seen: Option<Vec<String>>) {
    let mut reads = recorder.0.lock().unwrap_or_else(PoisonError::into_inner);
    let listed: HashMap<&str, NodeId> = reads
        .iter()
        .filter_map(|r| match *r {
            Read::Summary(n) => Some((ctx.path_of(n), n)),
            _ => None,
        })
        .collect();
    if listed.is_empty() {
        return;
    }
    let whole: HashSet<&str> = reads
        .iter()
        .filter_map(|r| match *r {
            Read::Page(n) => Some(ctx.path_of(n)),
            _ => None,
        })
        .collect();
    let known = |p: &String| listed.contains_key(p.as_str()) || whole.contains(p.as_str());
    let texts: Vec<Read> = match seen {
        Some(seen) if seen.iter().all(known) => seen
            .iter()
            .filter_map(|p| listed.get(p.as_str()))
            .map(|&n| Read::SummaryText(n))
            .collect(),
        _ => listed.values().map(|&n| Read::SummaryText(n)).collect(),
    };
    reads.extend(texts);
}

/// A recorder to attach to a job's context when the memo is on.
pub(super) fn recorder(on: bool) -> Option<Arc<Recorder>> {
    on.then(|| Arc::new(Recorder::default()))
}
