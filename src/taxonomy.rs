//! Stage 5: the Suchworte (keywords) of all pages.
//!
//! Takes the resolved [`Site`] and returns [`Keywords`]: every keyword once (NFC-normalised,
//! merged case-insensitively, synonyms mapped to their preferred form) in German collation, the
//! pages carrying it, co-occurring keywords and "siehe auch" references. Slug collisions are
//! errors naming both keywords; near-duplicates are warnings.

use std::collections::{BTreeMap, HashMap};

use crate::collate::GermanCollator;
use crate::config::Settings;
use crate::error::{did_you_mean, Diagnostic};
use crate::parse::{At, Document};
use crate::resolve::Site;
use crate::slug::{nfc, slugify};

#[derive(Debug)]
pub(crate) struct Keyword {
    pub name: String,
    pub slug: String,
    /// Pages carrying it, sorted by title (German collation).
    pub pages: Vec<usize>,
    /// Co-occurring keywords (index into [`Keywords::list`]) and how many pages they share.
    pub related: Vec<(usize, usize)>,
    pub see_also: Vec<usize>,
    /// `content/<keywords.path>/<slug>.md`, if the editors wrote one.
    pub description: Option<Document>,
}

#[derive(Debug, Default)]
pub(crate) struct Keywords {
    /// In German collation order.
    pub list: Vec<Keyword>,
    /// For each node, its keywords (indices into `list`) in collation order.
    pub by_node: Vec<Vec<usize>>,
    /// `content/<keywords.path>/_index.md`: title and text of the index page.
    pub index_doc: Option<Document>,
}

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
    keyword_docs: Vec<Document>,
    lint: bool,
) -> (Keywords, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let kw = &settings.keywords;
    let synonyms: HashMap<String, String> = kw
        .synonyms
        .iter()
        .map(|(from, to)| (fold(&clean(from)), clean(to)))
        .collect();
    let allowed: HashMap<String, String> = kw
        .allowed
        .iter()
        .map(|a| (fold(&clean(a)), clean(a)))
        .collect();

    // Folded key → (spellings with counts, first use, pages).
    struct Acc {
        spellings: BTreeMap<String, usize>,
        first_use: (usize, usize),
        pages: Vec<usize>,
    }
    let mut acc: HashMap<String, Acc> = HashMap::new();
    let mut node_keys: Vec<Vec<String>> = vec![Vec::new(); site.nodes.len()];
    for (id, node) in site.nodes.iter().enumerate() {
        let doc = &node.doc;
        for At { value, offset } in &doc.fm.suchworte {
            let mut name = clean(value);
            if name.is_empty() {
                diags.push(
                    Diagnostic::error(&doc.src.shown, "empty keyword in `suchworte`")
                        .at(&doc.src.text, *offset)
                        .with_hint("remove the empty entry \"\""),
                );
                continue;
            }
            if let Some(preferred) = synonyms.get(&fold(&name)) {
                name = preferred.clone();
            }
            if !allowed.is_empty() {
                match allowed.get(&fold(&name)) {
                    Some(a) => name = a.clone(),
                    None => {
                        let hint = did_you_mean(&name, allowed.values().map(String::as_str))
                            .unwrap_or_else(|| "add it to [keywords] allowed in config.toml, or use an allowed keyword".into());
                        diags.push(
                            Diagnostic::error(
                                &doc.src.shown,
                                format!("keyword `{name}` is not in the controlled vocabulary"),
                            )
                            .at(&doc.src.text, *offset)
                            .with_hint(hint),
                        );
                        continue;
                    }
                }
            }
            let key = fold(&name);
            if node_keys[id].contains(&key) {
                continue;
            }
            let e = acc.entry(key.clone()).or_insert_with(|| Acc {
                spellings: BTreeMap::new(),
                first_use: (id, *offset),
                pages: Vec::new(),
            });
            *e.spellings.entry(name).or_insert(0) += 1;
            e.pages.push(id);
            node_keys[id].push(key);
        }
    }

    // Display name: the most used spelling; ties go to the first in collation order.
    let mut list: Vec<(String, String, Acc)> = acc
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

    let place = |(id, off): (usize, usize)| {
        let doc = &site.nodes[id].doc;
        let (line, col, _) = crate::error::position(&doc.src.text, off);
        format!("{}:{line}:{col}", doc.src.shown.display())
    };

    // Slugs must be unique and non-empty.
    let mut by_slug: HashMap<String, usize> = HashMap::new();
    let mut keywords = Vec::with_capacity(list.len());
    let mut index_of_key: HashMap<String, usize> = HashMap::new();
    for (key, name, a) in list {
        let slug = slugify(&name);
        let (fid, foff) = a.first_use;
        let fdoc = &site.nodes[fid].doc;
        if slug.is_empty() {
            diags.push(
                Diagnostic::error(
                    &fdoc.src.shown,
                    format!("keyword `{name}` has no letters or digits for its URL"),
                )
                .at(&fdoc.src.text, foff)
                .with_hint("use a keyword with letters or digits"),
            );
            continue;
        }
        // Keyword pages are folders too, also on Windows file shares.
        if let Some(why) = crate::slug::unsafe_segment(&slug) {
            let shown: String = name.chars().take(40).collect();
            diags.push(
                Diagnostic::error(
                    &fdoc.src.shown,
                    format!("keyword `{shown}` cannot have a page: {why}"),
                )
                .at(&fdoc.src.text, foff)
                .with_hint("use another keyword, or map it to one in [keywords.synonyms]"),
            );
            continue;
        }
        if let Some(&other) = by_slug.get(&slug) {
            let other: &Keyword = &keywords[other];
            diags.push(
                Diagnostic::error(
                    &fdoc.src.shown,
                    format!("keywords `{name}` and `{}` both have the URL /{}/{slug}/", other.name, kw.path),
                )
                .at(&fdoc.src.text, foff)
                .with_hint(format!(
                    "use one spelling for both (or map one to the other in [keywords.synonyms]); `{}` is used at {}",
                    other.name,
                    place(first_use_of(site, other))
                )),
            );
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
        by_slug.insert(slug.clone(), keywords.len());
        index_of_key.insert(key, keywords.len());
        keywords.push(Keyword {
            name,
            slug,
            pages,
            related: Vec::new(),
            see_also: Vec::new(),
            description: None,
        });
    }

    if lint {
        near_duplicates(&keywords, kw.near_duplicate_distance, site, &mut diags);
    }

    // Per-node keyword lists, in collation order (the index order).
    let mut by_node: Vec<Vec<usize>> = node_keys
        .iter()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| index_of_key.get(k).copied())
                .collect()
        })
        .collect();
    for ks in &mut by_node {
        ks.sort_unstable();
    }

    // Related keywords by co-occurrence.
    let mut co: Vec<HashMap<usize, usize>> = vec![HashMap::new(); keywords.len()];
    for ks in &by_node {
        for &a in ks {
            for &b in ks {
                if a != b {
                    *co[a].entry(b).or_insert(0) += 1;
                }
            }
        }
    }
    for (i, counts) in co.into_iter().enumerate() {
        let mut rel: Vec<(usize, usize)> = counts.into_iter().collect();
        rel.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        rel.truncate(kw.related);
        keywords[i].related = rel;
    }

    // "Siehe auch" from the config.
    for (from, tos) in &kw.see_also {
        let Some(&fi) = index_of_key.get(&fold(&clean(from))) else {
            diags.push(unknown_in_config(from, "see_also", &keywords));
            continue;
        };
        for to in tos {
            match index_of_key.get(&fold(&clean(to))) {
                Some(&ti) if ti != fi => {
                    if !keywords[fi].see_also.contains(&ti) {
                        keywords[fi].see_also.push(ti);
                    }
                }
                Some(_) => {}
                None => diags.push(unknown_in_config(to, "see_also", &keywords)),
            }
        }
    }

    // Description pages: content/<path>/_index.md and content/<path>/<slug>.md.
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
            None => {
                let hint = did_you_mean(slug, by_slug.keys().map(String::as_str)).unwrap_or_else(|| {
                    "name the file after the keyword's URL slug (e.g. beschaeftigungsfoerderung.md); if only internal pages carry the keyword, mark this file intern = true".into()
                });
                // A warning: the description is simply not published, and in a public target a
                // keyword of internal pages legitimately has no pages.
                diags.push(
                    Diagnostic::warning(
                        &d.src.shown,
                        format!(
                            "description for keyword `{slug}`, but no page of this build carries that keyword; it is left out"
                        ),
                    )
                    .with_hint(hint),
                );
            }
        }
    }

    (
        Keywords {
            list: keywords,
            by_node,
            index_doc,
        },
        diags,
    )
}

fn first_use_of(site: &Site, k: &Keyword) -> (usize, usize) {
    let id = k.pages.first().copied().unwrap_or(0);
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

fn unknown_in_config(name: &str, table: &str, keywords: &[Keyword]) -> Diagnostic {
    let hint = did_you_mean(name, keywords.iter().map(|k| k.name.as_str()))
        .unwrap_or_else(|| "only keywords that pages carry can be referenced".into());
    Diagnostic::warning(
        "config.toml",
        format!(
            "[keywords.{table}] names `{name}`, which no page carries; the reference is left out"
        ),
    )
    .with_hint(hint)
}

/// Warns about keywords that are probably the same word (singular/plural, typos).
/// Every string made from `w` by deleting at most `max` characters (including `w`).
/// Hashes of every string reachable from `w` by deleting at most `max` characters, without
/// building the strings (this runs for every keyword of every build). A collision only adds a
/// candidate pair, which is then checked exactly.
fn deletion_hashes(w: &[char], max: usize) -> Vec<u64> {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    fn walk(w: &[char], left: usize, h: u64, out: &mut Vec<u64>) {
        let Some((&c, rest)) = w.split_first() else {
            // Mix, so that similar polynomials do not share buckets of the hash map.
            let x = (h ^ (h >> 31)).wrapping_mul(K);
            out.push(x ^ (x >> 29));
            return;
        };
        walk(
            rest,
            left,
            h.wrapping_mul(K).wrapping_add(u64::from(c) + 1),
            out,
        );
        if left > 0 {
            walk(rest, left - 1, h, out);
        }
    }
    let mut out = Vec::new();
    walk(w, max, 0, &mut out);
    // Deleting either of two equal neighbours gives the same string.
    out.sort_unstable();
    out.dedup();
    out
}

fn near_duplicates(keywords: &[Keyword], max: usize, site: &Site, diags: &mut Vec<Diagnostic>) {
    if max == 0 {
        return;
    }
    let folded: Vec<Vec<char>> = keywords
        .iter()
        .map(|k| fold(&k.name).chars().collect())
        .collect();
    // Candidates by deletion neighbourhoods: two words within edit distance `max` share a
    // string reachable from both by at most `max` deletions, so only words sharing such a
    // variant are compared (linear in the number of keywords, not quadratic).
    // (variant hash, keyword) sorted by hash: keywords sharing a variant are neighbours. A flat
    // list, not a map of lists: a long keyword has hundreds of variants.
    let mut variants: Vec<(u64, u32)> = Vec::new();
    for (i, w) in folded.iter().enumerate() {
        // Short words differ by a letter or two all the time (EU, ESF): only longer ones.
        if w.len() <= 3 * max {
            continue;
        }
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        variants.extend(deletion_hashes(w, max).into_iter().map(|h| (h, i)));
    }
    variants.sort_unstable();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for run in variants.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        for (n, &(_, a)) in run.iter().enumerate() {
            for &(_, b) in &run[n + 1..] {
                if a != b {
                    pairs.push((a.min(b) as usize, a.max(b) as usize));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    for (x, y) in pairs {
        let (a, b) = (&folded[x], &folded[y]);
        let sa: String = a.iter().collect();
        let sb: String = b.iter().collect();
        let d = strsim::levenshtein(&sa, &sb);
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

    proptest! {
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
