//! The real portal: nothing of its internal documents (`intern = true`, or below an internal
//! section) reaches the public `internet` build — not a title, description or sentence, not a
//! keyword only internal documents carry, not the URL; in no file, the Pagefind index
//! decompressed included. The `intranet` build has all of it, so the test can fail.
//!
//! What is internal and what counts as distinctive is read from `content/` itself: a text is
//! distinctive if no public source file contains it.

use std::collections::BTreeSet;
use std::path::Path;

use crate::content::{self, Doc};
use crate::harness::portal;
use crate::scan;

/// Plain text of Markdown, line by line: links and images as their text, emphasis, code marks,
/// heading ids and block markers removed.
fn md_text(md: &str) -> String {
    let mut out = String::new();
    for line in md.lines() {
        let mut l = line.trim_start();
        l = l
            .trim_start_matches('#')
            .trim_start_matches('>')
            .trim_start();
        for marker in ["- ", "* ", "+ "] {
            if let Some(r) = l.strip_prefix(marker) {
                l = r;
            }
        }
        let mut s = String::new();
        let mut rest = l;
        // [text](target) → text; ![alt](src) → alt
        while let Some(open) = rest.find('[') {
            let Some(mid) = rest[open..].find("](").map(|m| open + m) else {
                break;
            };
            let Some(close) = rest[mid..].find(')').map(|c| mid + c) else {
                break;
            };
            s.push_str(rest[..open].trim_end_matches('!'));
            s.push_str(&rest[open + 1..mid]);
            rest = &rest[close + 1..];
        }
        s.push_str(rest);
        if let Some(i) = s.find(" {#") {
            s.truncate(i);
        }
        out.push_str(
            &s.replace("**", "")
                .replace("__", "")
                .replace(['`', '*'], ""),
        );
        out.push('\n');
    }
    out
}

/// The sentences of a text, long enough to be distinctive.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        if para.contains("{{") || para.contains('<') || para.trim_start().starts_with('|') {
            continue;
        }
        let para = scan::squash(para);
        let mut start = 0;
        let chars: Vec<(usize, char)> = para.char_indices().collect();
        for (k, &(i, c)) in chars.iter().enumerate() {
            // "z.B. auch" and "Nr. 5" are no ends; a capital after the space is.
            let end_of_sentence = matches!(c, '.' | '!' | '?')
                && matches!(chars.get(k + 1), None | Some((_, ' ')))
                && match chars.get(k + 2) {
                    None => true,
                    Some(&(_, n)) => n.is_uppercase() || n == '"' || n == '„',
                };
            if end_of_sentence {
                out.push(para[start..i + c.len_utf8()].trim().to_string());
                start = i + c.len_utf8();
            }
        }
        out.push(para[start..].trim().to_string());
    }
    out.retain(|s| s.chars().count() >= 25 && s.split(' ').count() >= 4);
    out
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// What must not appear in the public build.
#[derive(Debug)]
enum Needle {
    /// A title, description, sentence or field text.
    Text(String),
    /// A keyword only internal documents carry: its name (or, if public text uses the word,
    /// the name as a whole element or string) and its page URL.
    Keyword { forms: Vec<String>, slug: String },
    /// The document's URL path, e.g. `/initiativen/equal/anmerkung/`.
    Url(String),
}

impl Needle {
    fn forms(&self) -> Vec<String> {
        match self {
            Needle::Text(t) => vec![t.clone()],
            Needle::Keyword { forms, .. } => forms.clone(),
            Needle::Url(u) => vec![u.clone()],
        }
    }
}

/// All files of a build as (path, searchable variants).
fn corpus(out: &Path) -> Vec<(String, Vec<String>)> {
    scan::files(out)
        .into_iter()
        // Not the search engine's wasm (`*.pagefind`): code, not content.
        .filter(|f| f.extension().and_then(|e| e.to_str()) != Some("pagefind"))
        .map(|f| (scan::rel(out, &f), scan::variants(&scan::text_of(&f))))
        .collect()
}

fn where_found(corpus: &[(String, Vec<String>)], form: &str) -> Vec<String> {
    corpus
        .iter()
        .filter(|(_, vs)| vs.iter().any(|v| v.contains(form)))
        .map(|(f, _)| f.clone())
        .collect()
}

/// Index words (stems) that come only from internal text: a prefix (≥ 4 letters) of a word
/// only internal documents use, that is no prefix of any public word.
fn internal_stems(
    out: &Path,
    internal_words: &BTreeSet<String>,
    public_words: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut stems = BTreeSet::new();
    let index = out.join("pagefind").join("index");
    let files = scan::files(&index);
    assert!(!files.is_empty(), "{}: no Pagefind index", out.display());
    for f in files {
        for s in scan::cbor_strings(&scan::pagefind_payload(&f)) {
            if s.chars().count() < 4 {
                continue;
            }
            if internal_words.iter().any(|w| w.starts_with(&s))
                && !public_words.iter().any(|p| p.starts_with(&s))
            {
                stems.insert(s);
            }
        }
    }
    stems
}

#[test]
fn nothing_internal_reaches_the_internet_build() {
    let docs = content::docs();
    let config = content::config();
    let keywords = content::Keywords::from_config(&config);
    let kw_path = &keywords.path;
    let canonical = |k: &str| keywords.canonical(k);

    // Internal: intern = true, or below a section with intern = true. Drafts are in no build.
    type Flagged<'a> = Vec<(&'a Doc, bool)>;
    let (internal, public): (Flagged<'_>, Flagged<'_>) = docs
        .iter()
        .zip(content::internal(&docs))
        .filter(|(d, _)| !d.flag("draft"))
        .partition(|(_, intern)| *intern);
    let internal: Vec<&Doc> = internal.into_iter().map(|(d, _)| d).collect();
    let public: Vec<&Doc> = public.into_iter().map(|(d, _)| d).collect();
    assert!(
        !internal.is_empty(),
        "the portal has internal content (content/initiativen/equal/anmerkung-technische-hilfe.md)"
    );

    // Public text: the public content files (as written and as plain text), the configuration
    // and the theme's and site's templates and strings.
    let mut public_text = String::new();
    for d in &public {
        public_text.push_str(&d.raw);
        public_text.push('\n');
        public_text.push_str(&md_text(&d.body));
    }
    let theme = config
        .get("theme")
        .and_then(toml::Value::as_str)
        .unwrap_or("default");
    let repo = content::repo();
    public_text.push_str(&std::fs::read_to_string(repo.join("config.toml")).unwrap());
    for dir in [repo.join("templates"), repo.join("themes").join(theme)] {
        if dir.is_dir() {
            for f in scan::files(&dir) {
                public_text.push_str(&String::from_utf8_lossy(&std::fs::read(&f).unwrap()));
                public_text.push('\n');
            }
        }
    }
    let public_squashed = scan::squash(&public_text);
    let public_words: BTreeSet<String> = words(&public_text).collect();
    let public_keywords: BTreeSet<String> = public
        .iter()
        .flat_map(|d| d.keywords())
        .map(|k| canonical(&k))
        .collect();

    // The needles of every internal document.
    let mut needles = Vec::new();
    let mut skipped = Vec::new();
    let mut internal_words = BTreeSet::new();
    for d in &internal {
        let mut texts = vec![d.str("title").to_string(), d.str("description").to_string()];
        texts.extend(sentences(&md_text(&d.body)));
        // Text values of typed fields (and other string keys).
        for (k, v) in &d.fm {
            if ["title", "description", "slug", "template", "type"].contains(&k.as_str()) {
                continue;
            }
            if let Some(s) = v.as_str() {
                texts.extend(sentences(&md_text(s)));
            }
        }
        for t in texts {
            let t = scan::squash(&t);
            if t.is_empty() {
                continue;
            }
            internal_words.extend(words(&t).filter(|w| w.chars().count() >= 5));
            if public_squashed.contains(&t) {
                skipped.push(t);
            } else {
                needles.push(Needle::Text(t));
            }
        }
        for k in d.keywords() {
            if public_keywords.contains(&canonical(&k)) {
                continue;
            }
            let k = scan::squash(&k);
            let slug = scan::slug(&k);
            let mut forms = vec![format!("/{kw_path}/{slug}/")];
            if public_text.contains(&k) {
                forms.extend([format!(">{k}<"), format!("\"{k}\"")]);
            } else {
                forms.push(k.clone());
            }
            needles.push(Needle::Keyword { forms, slug });
        }
        // The URL path: folders and file name as URL segments, or the slug.
        let url = d.url_path();
        if url != "/" {
            needles.push(Needle::Url(url));
        }
    }
    internal_words.retain(|w| !public_words.contains(w));
    assert!(
        needles.iter().any(|n| matches!(n, Needle::Text(_))),
        "internal documents have distinctive text (skipped: {skipped:?})"
    );

    // The shared builds: read only.
    let internet = &portal("internet").out;
    let intranet = &portal("intranet").out;
    let public_files = corpus(internet);
    let intranet_files = corpus(intranet);
    let pagefind_files = public_files
        .iter()
        .filter(|(f, _)| f.contains(".pf_"))
        .count();
    assert!(pagefind_files > 3, "the Pagefind data files are searched");

    let mut leaks = Vec::new();
    for n in &needles {
        // The intranet build has it (else this test proves nothing).
        match n {
            Needle::Keyword { slug, .. } => assert!(
                intranet
                    .join(kw_path)
                    .join(slug)
                    .join("index.html")
                    .is_file(),
                "the intranet build has the keyword page of {n:?}"
            ),
            Needle::Url(u) => assert!(
                intranet.join(&u[1..]).join("index.html").is_file(),
                "the intranet build has the page {u}"
            ),
            Needle::Text(t) => assert!(
                !where_found(&intranet_files, t).is_empty(),
                "the intranet build has {t:?}"
            ),
        }
        for form in n.forms() {
            let found = where_found(&public_files, &form);
            if !found.is_empty() {
                leaks.push(format!("{form:?} in {found:?}"));
            }
        }
        // No file of the public build lies at an internal URL.
        if let Needle::Url(u) = n {
            let under: Vec<&String> = public_files
                .iter()
                .map(|(f, _)| f)
                .filter(|f| f.starts_with(&u[1..]))
                .collect();
            if !under.is_empty() {
                leaks.push(format!("files at the internal URL {u}: {under:?}"));
            }
        }
    }

    // The search index stores stems; those only internal words give must be missing.
    assert!(
        !internal_words.is_empty(),
        "internal documents have their own words"
    );
    let in_intranet = internal_stems(intranet, &internal_words, &public_words);
    assert!(
        !in_intranet.is_empty(),
        "the intranet index has stems of {internal_words:?}"
    );
    let in_internet = internal_stems(internet, &internal_words, &public_words);
    if !in_internet.is_empty() {
        leaks.push(format!("index stems {in_internet:?}"));
    }

    assert!(
        leaks.is_empty(),
        "internal content in the internet build:\n{}",
        leaks.join("\n")
    );
}
