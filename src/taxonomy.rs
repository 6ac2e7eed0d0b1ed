//! Stage 5: the Suchworte (keywords) of all pages.
//!
//! Takes the resolved [`Site`] and returns [`Keywords`]: every keyword once (NFC-normalised,
//! merged case-insensitively, synonyms mapped to their preferred form) in German collation, the
//! pages carrying it, co-occurring keywords and "siehe auch" references. Slug collisions are
//! errors naming both keywords; near-duplicates are warnings.

use crate::hash::{HashMap, HashSet};
use std::collections::BTreeMap;

use crate::collate::GermanCollator;
use crate::config::{KeywordSettings, Settings};
use crate::error::{did_you_mean, Diagnostic};
use crate::model::{At, Document, Keyword, KeywordId, Keywords, NodeId, Site};
use crate::slug::{nfc, slugify};
use crate::text::is_blank;

/// A keyword as written, after whitespace and Unicode normalisation.
fn clean(s: &str) -> String {
    nfc(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// `lint`: also look for near-duplicate keywords (a warning; the dev server skips it on
/// incremental updates, where it would cost more than the update itself).
pub(crate) fn collect(
    settings: &Settings,
    collator: &GermanCollator,
    site: &Site,
    keyword_docs: Vec<std::sync::Arc<Document>>,
    lint: bool,
    memo: &mut Memo,
) -> (Keywords, Vec<Diagnostic>) {
    if let Some(keywords) = memo.unchanged(site) {
        return (keywords, Vec::new());
    }
    let print = keyword_print(site, &keyword_docs, lint);
    let previous = memo.kept.take().filter(|(p, _)| *p == print);
    memo.print = Some(print);
    if let Some((_, mut keywords)) = previous {
        // Only the order of each keyword's pages can differ: titles changed, or paths.
        for k in &mut keywords.list {
            crate::resolve::sort_by_title(&site.nodes, &mut k.pages);
        }
        return (keywords, Vec::new());
    }
    let (keywords, diags) = collect_all(settings, collator, site, keyword_docs, lint);
    if !diags.is_empty() {
        memo.print = None;
    }
    (keywords, diags)
}

/// What the keyword stage keeps for the next run (the dev server): the keywords of the last
/// run, if it found no problem in them.
#[derive(Default)]
pub(crate) struct Memo {
    print: Option<u64>,
    kept: Option<(u64, Keywords)>,
}

impl Memo {
    /// The last run's keywords, if the site's delta shows that no node's keywords changed
    /// (the nodes, keyword files and print are then those of the last run): only the keywords
    /// of a node with a new title have their pages sorted again.
    fn unchanged(&mut self, site: &Site) -> Option<Keywords> {
        let delta = site.delta.as_ref()?;
        let now = |id: NodeId| &site.nodes[id].doc;
        let same = |a: &Document, b: &Document| {
            (a.fm.suchworte.iter().map(|s| &s.value)).eq(b.fm.suchworte.iter().map(|s| &s.value))
        };
        if !(delta.swapped.iter()).all(|(id, old)| same(old, now(*id))) {
            return None;
        }
        let (print, mut keywords) = self.kept.take()?;
        self.print = Some(print);
        let mut resort: Vec<KeywordId> = (delta.swapped.iter())
            .filter(|(id, old)| old.fm.title != now(*id).fm.title)
            .flat_map(|(id, _)| keywords.by_node[*id].iter().copied())
            .collect();
        resort.sort_unstable();
        resort.dedup();
        for k in resort {
            crate::resolve::sort_by_title(&site.nodes, &mut keywords.list[k].pages);
        }
        Some(keywords)
    }

    /// Takes the keywords back after a successful run, for the next one.
    pub(crate) fn keep(&mut self, keywords: Keywords) {
        if let Some(print) = self.print {
            self.kept = Some((print, keywords));
        }
    }
}

/// A print of everything the keywords are made of: which nodes there are (their ids), the
/// keywords each carries (values, not positions: positions only show in problems, and a run
/// with problems is not kept), and the description files. Titles only order each keyword's
/// pages, which is done again on every run.
fn keyword_print(site: &Site, keyword_docs: &[std::sync::Arc<Document>], lint: bool) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = crate::model::print_hasher();
    lint.hash(&mut h);
    for n in &site.nodes {
        n.doc.src.rel.hash(&mut h);
        n.doc.fm.suchworte.len().hash(&mut h);
        for s in &n.doc.fm.suchworte {
            s.value.hash(&mut h);
        }
    }
    for d in keyword_docs {
        (&d.src.rel, &*d.src.text).hash(&mut h);
    }
    h.finish()
}

/// The keywords, made anew.
fn collect_all(
    settings: &Settings,
    collator: &GermanCollator,
    site: &Site,
    keyword_docs: Vec<std::sync::Arc<Document>>,
    lint: bool,
) -> (Keywords, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let kw = &settings.keywords;
    let (uses, node_keys) = gather(&Vocabulary::new(kw), site, &mut diags);
    let named = by_display_name(uses, collator);
    let (mut keywords, index) = assign_slugs(named, site, &kw.path, &mut diags);
    if lint {
        near_duplicates(&keywords, kw.near_duplicate_distance, site, &mut diags);
    }
    let by_node = keywords_by_node(&node_keys, &index.of_key);
    relate(&mut keywords, &by_node, kw.related);
    see_also(settings, &index.of_key, &mut keywords, &mut diags);
    let index_doc =
        attach_descriptions(keyword_docs, &index.by_slug, &mut keywords, kw, &mut diags);
    (
        Keywords {
            list: keywords,
            by_node,
            index_doc,
        },
        diags,
    )
}

/// The configured vocabulary: synonyms and the allowed keywords, by folded form.
struct Vocabulary {
    synonyms: HashMap<String, String>,
    allowed: HashMap<String, String>,
}

impl Vocabulary {
    fn new(kw: &KeywordSettings) -> Self {
        Vocabulary {
            synonyms: kw
                .synonyms
                .iter()
                .map(|(from, to)| (fold(&clean(from)), clean(to)))
                .collect(),
            allowed: kw
                .allowed
                .iter()
                .map(|a| (fold(&clean(a)), clean(a)))
                .collect(),
        }
    }

    /// The keyword a page's entry stands for (cleaned, synonyms mapped, spelled as allowed),
    /// or the error that rejects the entry.
    fn name_of(&self, value: &str, doc: &Document, offset: usize) -> Result<String, Diagnostic> {
        let mut name = clean(value);
        if is_blank(&name) {
            let (message, hint) = if name.is_empty() {
                (
                    "empty keyword in `suchworte`",
                    "remove the empty entry \"\"",
                )
            } else {
                (
                    "keyword of only invisible characters in `suchworte`",
                    "zero-width spaces, soft hyphens and the like show nothing; remove the entry or write the keyword",
                )
            };
            return Err(Diagnostic::error(&doc.src.shown, message)
                .at(&doc.src.text, offset)
                .with_hint(hint));
        }
        if let Some(preferred) = self.synonyms.get(&fold(&name)) {
            name = preferred.clone();
        }
        if self.allowed.is_empty() {
            return Ok(name);
        }
        match self.allowed.get(&fold(&name)) {
            Some(a) => Ok(a.clone()),
            None => {
                // Sorted: with a tie in distance the hint must not follow the hash map's order.
                let mut allowed: Vec<&str> = self.allowed.values().map(String::as_str).collect();
                allowed.sort_unstable();
                let hint = did_you_mean(&name, allowed).unwrap_or_else(|| {
                    "add it to [keywords] allowed in config.toml, or use an allowed keyword".into()
                });
                Err(Diagnostic::error(
                    &doc.src.shown,
                    format!("keyword `{name}` is not in the controlled vocabulary"),
                )
                .at(&doc.src.text, offset)
                .with_hint(hint))
            }
        }
    }
}

/// The uses of one keyword (by folded form): spellings with counts, first use, pages.
struct Uses {
    spellings: BTreeMap<String, usize>,
    first_use: (NodeId, usize),
    pages: Vec<NodeId>,
}

/// Every keyword the pages carry, by folded form, and each node's folded keywords.
fn gather(
    vocabulary: &Vocabulary,
    site: &Site,
    diags: &mut Vec<Diagnostic>,
) -> (HashMap<String, Uses>, Vec<Vec<String>>) {
    let mut uses: HashMap<String, Uses> = HashMap::default();
    let mut node_keys: Vec<Vec<String>> = vec![Vec::new(); site.nodes.len()];
    for (id, node) in NodeId::all(site.nodes.len()).zip(&site.nodes) {
        let doc = &node.doc;
        let mut seen: HashSet<String> = HashSet::default();
        for At { value, offset } in &doc.fm.suchworte {
            let name = match vocabulary.name_of(value, doc, *offset) {
                Ok(name) => name,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let key = fold(&name);
            // A set, not a search of the list: a page may carry many keywords.
            if !seen.insert(key.clone()) {
                continue;
            }
            let e = uses.entry(key.clone()).or_insert_with(|| Uses {
                spellings: BTreeMap::new(),
                first_use: (id, *offset),
                pages: Vec::new(),
            });
            *e.spellings.entry(name).or_insert(0) += 1;
            e.pages.push(id);
            node_keys[id].push(key);
        }
    }
    (uses, node_keys)
}

/// (folded key, display name, uses) in collation order of the display names. Display name:
/// the most used spelling; ties go to the first in collation order.
fn by_display_name(
    uses: HashMap<String, Uses>,
    collator: &GermanCollator,
) -> Vec<(String, String, Uses)> {
    let mut list: Vec<(String, String, Uses)> = uses
        .into_iter()
        .map(|(key, a)| {
            let name = a
                .spellings
                .iter()
                .max_by(|x, y| x.1.cmp(y.1).then_with(|| collator.compare(y.0, x.0)))
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            (key, name, a)
        })
        .collect();
    list.sort_by_cached_key(|(_, name, _)| (collator.sort_key(name), name.clone()));
    list
}

/// Where each kept keyword is in the list: by URL slug and by folded key.
#[derive(Default)]
struct Index {
    by_slug: HashMap<String, KeywordId>,
    of_key: HashMap<String, KeywordId>,
}

/// The keywords that can have a page (slugs unique and non-empty), in the order given.
fn assign_slugs(
    named: Vec<(String, String, Uses)>,
    site: &Site,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Keyword>, Index) {
    let mut index = Index::default();
    let mut keywords = Vec::with_capacity(named.len());
    for (key, name, a) in named {
        let slug = slugify(&name);
        let (fid, foff) = a.first_use;
        let fdoc = &site.nodes[fid].doc;
        let clash = index.by_slug.get(&slug).map(|&other| &keywords[other]);
        if let Some(d) = slug_problem(&name, &slug, clash, &fdoc.src.shown, site, path) {
            diags.push(d.at(&fdoc.src.text, foff));
            continue;
        }
        if a.spellings.len() > 1 {
            let variants: Vec<&str> = a.spellings.keys().map(String::as_str).collect();
            diags.push(
                Diagnostic::warning(
                    &fdoc.src.shown,
                    format!("keyword written in different ways: {}", variants.join(", ")),
                )
                .at(&fdoc.src.text, foff)
                .with_hint(format!(
                    "they are merged as `{name}`; use one spelling everywhere"
                )),
            );
        }
        let mut pages = a.pages;
        crate::resolve::sort_by_title(&site.nodes, &mut pages);
        let id = KeywordId::new(keywords.len());
        index.by_slug.insert(slug.clone(), id);
        index.of_key.insert(key, id);
        keywords.push(Keyword {
            name,
            slug,
            pages,
            related: Vec::new(),
            see_also: Vec::new(),
            description: None,
        });
    }
    (keywords, index)
}

/// Why a keyword cannot have a page under `slug` (`clash`: the keyword that already has it):
/// an error in `file`, where the keyword is first used, for the caller to place.
fn slug_problem(
    name: &str,
    slug: &str,
    clash: Option<&Keyword>,
    file: &std::path::Path,
    site: &Site,
    path: &str,
) -> Option<Diagnostic> {
    if slug.is_empty() {
        return Some(
            Diagnostic::error(
                file,
                format!("keyword `{name}` has no letters or digits for its URL"),
            )
            .with_hint("use a keyword with letters or digits"),
        );
    }
    // Keyword pages are folders too, also on Windows file shares.
    if let Some(why) = crate::slug::unsafe_segment(slug) {
        let shown: String = name.chars().take(40).collect();
        return Some(
            Diagnostic::error(file, format!("keyword `{shown}` cannot have a page: {why}"))
                .with_hint("use another keyword, or map it to one in [keywords.synonyms]"),
        );
    }
    let other = clash?;
    let place = |(id, off): (NodeId, usize)| {
        let doc = &site.nodes[id].doc;
        let (line, col, _) = crate::error::position(&doc.src.text, off);
        format!("{}:{line}:{col}", doc.src.shown.display())
    };
    Some(
        Diagnostic::error(
            file,
            format!("keywords `{name}` and `{}` both have the URL /{path}/{slug}/", other.name),
        )
        .with_hint(format!(
            "use one spelling for both (or map one to the other in [keywords.synonyms]); `{}` is used at {}",
            other.name,
            place(first_use_of(site, other))
        )),
    )
}

/// For each node, its keywords in collation order (the order of their ids).
fn keywords_by_node(
    node_keys: &[Vec<String>],
    of_key: &HashMap<String, KeywordId>,
) -> Vec<Vec<KeywordId>> {
    let mut by_node: Vec<Vec<KeywordId>> = node_keys
        .iter()
        .map(|keys| keys.iter().filter_map(|k| of_key.get(k).copied()).collect())
        .collect();
    for ks in &mut by_node {
        ks.sort_unstable();
    }
    by_node
}

/// Related keywords by co-occurrence: the `max` sharing the most pages.
fn relate(keywords: &mut [Keyword], by_node: &[Vec<KeywordId>], max: usize) {
    let mut co: Vec<HashMap<KeywordId, usize>> = vec![HashMap::default(); keywords.len()];
    for ks in by_node {
        for &a in ks {
            for &b in ks {
                if a != b {
                    *co[a].entry(b).or_insert(0) += 1;
                }
            }
        }
    }
    for (keyword, counts) in keywords.iter_mut().zip(co) {
        let mut rel: Vec<(KeywordId, usize)> = counts.into_iter().collect();
        rel.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        rel.truncate(max);
        keyword.related = rel;
    }
}

/// "Siehe auch" from the config; a keyword no page carries is warned about and left out.
fn see_also(
    settings: &Settings,
    of_key: &HashMap<String, KeywordId>,
    keywords: &mut [Keyword],
    diags: &mut Vec<Diagnostic>,
) {
    for (from, tos) in &settings.keywords.see_also {
        let place = ["keywords", "see_also", from.as_str()];
        let Some(&fi) = of_key.get(&fold(&clean(from))) else {
            diags.push(unknown_in_config(settings, &place, from, keywords));
            continue;
        };
        for (i, to) in tos.iter().enumerate() {
            match of_key.get(&fold(&clean(to))) {
                Some(&ti) if ti != fi => {
                    if !keywords[fi].see_also.contains(&ti) {
                        keywords[fi].see_also.push(ti);
                    }
                }
                Some(_) => {}
                None => {
                    let i = i.to_string();
                    let place = ["keywords", "see_also", from.as_str(), i.as_str()];
                    diags.push(unknown_in_config(settings, &place, to, keywords));
                }
            }
        }
    }
}

/// Description pages: content/<path>/<slug>.md goes to its keyword; content/<path>/_index.md
/// (title and text of the index page) is returned.
fn attach_descriptions(
    keyword_docs: Vec<std::sync::Arc<Document>>,
    by_slug: &HashMap<String, KeywordId>,
    keywords: &mut [Keyword],
    kw: &KeywordSettings,
    diags: &mut Vec<Diagnostic>,
) -> Option<std::sync::Arc<Document>> {
    let mut index_doc = None;
    for d in keyword_docs {
        let file = d.src.rel.rsplit('/').next().unwrap_or("");
        if d.src.rel.matches('/').count() > 1 {
            diags.push(
                Diagnostic::error(&d.src.shown, "keyword descriptions cannot be in subfolders")
                    .with_hint(format!("put it directly in content/{}/", kw.path)),
            );
            continue;
        }
        if file == "_index.md" {
            index_doc = Some(d);
            continue;
        }
        let slug = file.trim_end_matches(".md");
        match by_slug.get(slug) {
            Some(&i) => keywords[i].description = Some(d),
            None => diags.push(undescribed(slug, by_slug, &d)),
        }
    }
    index_doc
}

/// A warning for a description whose keyword no page of this build carries: the description is
/// simply not published, and in a public target a keyword of internal pages legitimately has
/// no pages.
fn undescribed(slug: &str, by_slug: &HashMap<String, KeywordId>, d: &Document) -> Diagnostic {
    // Sorted: with a tie in distance the hint must not follow the hash map's order.
    let mut slugs: Vec<&str> = by_slug.keys().map(String::as_str).collect();
    slugs.sort_unstable();
    let hint = did_you_mean(slug, slugs).unwrap_or_else(|| {
        "name the file after the keyword's URL slug (e.g. beschaeftigungsfoerderung.md); if only internal pages carry the keyword, mark this file intern = true".into()
    });
    Diagnostic::warning(
        &d.src.shown,
        format!(
            "description for keyword `{slug}`, but no page of this build carries that keyword; it is left out"
        ),
    )
    .with_hint(hint)
}

fn first_use_of(site: &Site, k: &Keyword) -> (NodeId, usize) {
    let id = k.pages.first().copied().unwrap_or(NodeId::new(0));
    let key = fold(&k.name);
    let off = site.nodes[id]
        .doc
        .fm
        .suchworte
        .iter()
        .find(|s| fold(&clean(&s.value)) == key)
        .map_or(0, |s| s.offset);
    (id, off)
}

/// A warning at `place` in config.toml (where `name` is written).
fn unknown_in_config(
    settings: &Settings,
    place: &[&str],
    name: &str,
    keywords: &[Keyword],
) -> Diagnostic {
    let hint = did_you_mean(name, keywords.iter().map(|k| k.name.as_str()))
        .unwrap_or_else(|| "only keywords that pages carry can be referenced".into());
    let table = place.get(1).copied().unwrap_or_default();
    settings
        .config_warning(
            place,
            format!(
                "[keywords.{table}] names `{name}`, which no page carries; the reference is left out"
            ),
        )
        .with_hint(hint)
}

/// Multiplier of the polynomial hashes of keyword variants (odd, so arithmetic mod 2^64 mixes).
const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Words shorter than this are compared by deletion neighbourhoods (variants grow with the cube
/// of the length for a distance of 3); longer ones by pieces (keys independent of the length).
const PIECE_FROM: usize = 20;

/// Polynomial prefix hashes and powers of `K`, so that the hash of any slice is O(1).
struct Hashes {
    prefix: Vec<u64>,
    pow: Vec<u64>,
}

impl Hashes {
    fn new(w: &[char]) -> Self {
        let mut prefix = Vec::with_capacity(w.len() + 1);
        let mut pow = Vec::with_capacity(w.len() + 1);
        let (mut h, mut p) = (0u64, 1u64);
        prefix.push(h);
        pow.push(p);
        for &c in w {
            h = h.wrapping_mul(K).wrapping_add(u64::from(c) + 1);
            p = p.wrapping_mul(K);
            prefix.push(h);
            pow.push(p);
        }
        Hashes { prefix, pow }
    }

    /// Hash of `w[a..b]`.
    fn slice(&self, a: usize, b: usize) -> u64 {
        self.prefix[b].wrapping_sub(self.prefix[a].wrapping_mul(self.pow[b - a]))
    }

    /// `h` followed by `w[a..b]`.
    fn append(&self, h: u64, a: usize, b: usize) -> u64 {
        h.wrapping_mul(self.pow[b - a])
            .wrapping_add(self.slice(a, b))
    }
}

/// Mixes a hash, so that similar polynomials do not share buckets.
fn mix(h: u64) -> u64 {
    let x = (h ^ (h >> 31)).wrapping_mul(K);
    x ^ (x >> 29)
}

/// Hashes of every string reachable from `w` by deleting at most `max` characters, without
/// building the strings: O(1) per variant, iterating over the deleted positions (no
/// recursion over the word). A collision only adds a candidate pair, which is checked exactly.
fn deletion_hashes(w: &[char], max: usize) -> Vec<u64> {
    fn walk(hs: &Hashes, n: usize, from: usize, h: u64, left: usize, out: &mut Vec<u64>) {
        // Delete nothing more: the rest of the word follows as it is.
        out.push(mix(hs.append(h, from, n)));
        if left == 0 {
            return;
        }
        for del in from..n {
            walk(hs, n, del + 1, hs.append(h, from, del), left - 1, out);
        }
    }
    let hs = Hashes::new(w);
    let mut out = Vec::new();
    walk(&hs, w.len(), 0, 0, max, &mut out);
    // Deleting either of two equal neighbours gives the same string.
    out.sort_unstable();
    out.dedup();
    out
}

/// Keys of a long word by the pigeonhole principle: a word of length `n` is cut into `max + 1`
/// pieces of length `n / (max + 1)`; `max` edits leave one of them untouched, and the other
/// word has it at the same place shifted by at most `max`. `own`: the word's pieces (keyed by
/// its length and the piece's number); `probes`: for each length the other word may have
/// (ours ± `max`), the slices where that word's pieces would be. A pair within the distance
/// shares an own key of one with a probe of the other. At most (max + 1)·(2·max + 1)² keys
/// per word, whatever its length.
fn piece_keys(w: &[char], max: usize) -> (Vec<u64>, Vec<u64>) {
    let hs = Hashes::new(w);
    let m = w.len();
    let key = |n: usize, k: usize, a: usize, len: usize| {
        mix(hs.slice(a, a + len) ^ mix(((n as u64) << 8 | k as u64) + 1))
    };
    let len = m / (max + 1);
    let own = (0..=max).map(|k| key(m, k, k * len, len)).collect();
    let mut probes = Vec::new();
    for n in m.saturating_sub(max).max(max + 1)..=m + max {
        let len = n / (max + 1);
        for k in 0..=max {
            for start in (k * len).saturating_sub(max)..=k * len + max {
                if start + len <= m {
                    probes.push(key(n, k, start, len));
                }
            }
        }
    }
    probes.sort_unstable();
    probes.dedup();
    (own, probes)
}

/// Pairs of keywords (indices, smaller first) that may be within edit distance `max`.
fn candidate_pairs(folded: &[Vec<char>], max: usize) -> Vec<(usize, usize)> {
    // (key, keyword, probe?) sorted by key: keywords sharing a key are neighbours. A flat
    // list, not a map of lists: a keyword has hundreds of variants.
    let mut keys: Vec<(u64, u32, bool)> = Vec::new();
    for (i, w) in folded.iter().enumerate() {
        // Short words differ by a letter or two all the time (EU, ESF): only longer ones.
        if w.len() <= 3 * max {
            continue;
        }
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        if w.len() < PIECE_FROM {
            // Deletion variants live in a key space of their own (the flag).
            keys.extend(deletion_hashes(w, max).into_iter().map(|h| (h, i, false)));
        }
        if w.len() + max >= PIECE_FROM {
            let (own, probes) = piece_keys(w, max);
            keys.extend(own.into_iter().map(|h| (!h, i, false)));
            keys.extend(probes.into_iter().map(|h| (!h, i, true)));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for run in keys.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        for (n, &(_, a, a_probe)) in run.iter().enumerate() {
            for &(_, b, b_probe) in &run[n + 1..] {
                // Two deletion variants, or a piece of one word found by a probe of the other.
                let matches = if a_probe || b_probe {
                    a_probe != b_probe
                } else {
                    true
                };
                if a != b && matches {
                    pairs.push((a.min(b) as usize, a.max(b) as usize));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Warns about keywords that are probably the same word (singular/plural, typos).
fn near_duplicates(keywords: &[Keyword], max: usize, site: &Site, diags: &mut Vec<Diagnostic>) {
    if max == 0 {
        return;
    }
    let folded: Vec<Vec<char>> = keywords
        .iter()
        .map(|k| fold(&k.name).chars().collect())
        .collect();
    for (x, y) in candidate_pairs(&folded, max) {
        let (a, b) = (&folded[x], &folded[y]);
        if a.len().abs_diff(b.len()) > max {
            continue;
        }
        let d = strsim::generic_levenshtein(a, b);
        if d <= max {
            let (id, off) = first_use_of(site, &keywords[y]);
            let doc = &site.nodes[id].doc;
            diags.push(
                    Diagnostic::warning(
                        &doc.src.shown,
                        format!(
                            "keywords `{}` and `{}` look alike (edit distance {d})",
                            keywords[x].name, keywords[y].name
                        ),
                    )
                    .at(&doc.src.text, off)
                    .with_hint("if they mean the same, use one of them, or map one to the other in [keywords.synonyms]"),
                );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn share_a_variant(a: &str, b: &str, max: usize) -> bool {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let hb = deletion_hashes(&b, max);
        deletion_hashes(&a, max)
            .iter()
            .any(|h| hb.binary_search(h).is_ok())
    }

    #[test]
    fn deletion_variants_are_deduplicated() {
        let w: Vec<char> = "aab".chars().collect();
        // aab, ab, aa, a, b (deleting either `a` gives the same string)
        assert_eq!(deletion_hashes(&w, 2).len(), 5);
    }

    #[test]
    fn deletion_variants_match_the_strings() {
        // The O(1) slice hashes give the same hash as hashing the variant itself.
        let w: Vec<char> = "abcd".chars().collect();
        let mut direct: Vec<u64> = ["abcd", "bcd", "acd", "abd", "abc"]
            .iter()
            .map(|v| {
                let v: Vec<char> = v.chars().collect();
                let hs = Hashes::new(&v);
                mix(hs.slice(0, v.len()))
            })
            .collect();
        direct.sort_unstable();
        assert_eq!(deletion_hashes(&w, 1), direct);
    }

    #[test]
    fn long_keywords_take_linear_time() {
        // 10,000 characters (the length limit keeps them out of builds; the check itself must
        // not hang on them either): the deletion neighbourhood would be cubic.
        let a: Vec<char> = "ab".repeat(5_000).chars().collect();
        let mut b = a.clone();
        b[4_000] = 'x';
        let started = std::time::Instant::now();
        let pairs = candidate_pairs(&[a, b], 3);
        assert_eq!(pairs, vec![(0, 1)]);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    /// A word and an edited copy: `edits` of (position, kind, letter).
    fn edited(word: &str, edits: &[(usize, u8, char)]) -> String {
        let mut w: Vec<char> = word.chars().collect();
        for &(pos, kind, c) in edits {
            let pos = pos % (w.len() + 1);
            match kind % 3 {
                0 => w.insert(pos, c),
                1 if pos < w.len() => {
                    w.remove(pos);
                }
                _ if pos < w.len() => w[pos] = c,
                _ => {}
            }
        }
        w.into_iter().collect()
    }

    proptest! {
        // Long and middle-length words too: every pair within the distance is a candidate,
        // whichever scheme (deletions, pieces, or both near the boundary) they fall under.
        #[test]
        fn candidates_cover_every_pair_within_the_distance(
            a in "[abcä]{8,60}",
            edits in prop::collection::vec((0usize..70, 0u8..3, prop::sample::select(vec!['a', 'b', 'x'])), 1..=3),
            max in 1usize..=3,
        ) {
            let b = edited(&a, &edits[..edits.len().min(max)]);
            let d = strsim::levenshtein(&a, &b);
            let (wa, wb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            if d >= 1 && d <= max && wa.len().min(wb.len()) > 3 * max {
                prop_assert!(candidate_pairs(&[wa, wb], max).contains(&(0, 1)));
            }
        }

        // Every pair within the distance is a candidate (no near duplicate is missed).
        #[test]
        fn pairs_within_the_distance_share_a_variant(
            a in "[abcä]{0,9}",
            b in "[abcä]{0,9}",
            max in 1usize..=2,
        ) {
            if strsim::levenshtein(&a, &b) <= max {
                prop_assert!(share_a_variant(&a, &b, max));
            }
        }
    }
}
