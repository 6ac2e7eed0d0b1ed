//! Incremental rebuilds (issue #12, point 2): random sequences of edits to a small site
//! (`sites/incremental`); after each edit the dev server's run on its memo must give exactly
//! what a run from scratch gives — every output byte for byte, the warnings, or the same
//! errors — for an intranet and an internet target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use wegweiser::preview_api::{self, Outputs, Preview};
use wegweiser::{BuildOptions, Overrides, Progress};

use crate::harness::SiteTest;

const TARGETS: [&str; 2] = ["intranet", "internet"];

/// Titles that move pages around in a title-sorted section (German collation: Ä with A).
const TITLES: [&str; 8] = [
    "Arbeit finden",
    "Ärger mit Ämtern",
    "Zebra",
    "Apfel",
    "Äpfel",
    "Recht",
    "Öffnungszeiten",
    "Übersicht",
];

/// Keywords: the fixture's own, a synonym (`Rat`, `Jobs`), a case variant, a look-alike (a
/// warning) and one whose URL collides with `Ämter` (an error).
const KEYWORDS: [&str; 11] = [
    "Arbeit",
    "Beratung",
    "Recht",
    "Ämter",
    "Verschlusssache",
    "Rat",
    "Jobs",
    "Neues Wort",
    "beratung",
    "Arbeiten",
    "Aemter",
];

const DATES: [&str; 4] = ["2000-01-01", "2001-02-01", "2001-03-01", "2002-12-24"];
const NAMES: [&str; 5] = ["neu", "zusatz", "anhang", "aerger", "alpha"];
/// Anchors of the fixture (`fehlt` exists nowhere: a broken link).
const ANCHORS: [&str; 4] = ["grundlagen", "ziele", "vermittlung", "fehlt"];

/// One edit. Indices pick among what the site holds at that moment (modulo its length).
#[derive(Debug, Clone)]
enum Edit {
    Body {
        doc: usize,
        how: usize,
    },
    Title {
        doc: usize,
        title: usize,
    },
    /// The last URL segment set or removed (the file stays where it is).
    Slug {
        doc: usize,
        slug: Option<usize>,
    },
    /// Listings show it.
    Description {
        doc: usize,
        text: Option<usize>,
    },
    Weight {
        doc: usize,
        weight: Option<i64>,
    },
    Date {
        doc: usize,
        date: Option<usize>,
    },
    KeywordAdd {
        doc: usize,
        keyword: usize,
    },
    KeywordRemove {
        doc: usize,
    },
    /// On every document that has it.
    KeywordRename {
        from: usize,
        to: usize,
    },
    Intern {
        page: usize,
    },
    InternSection {
        section: usize,
    },
    /// The section's `page_type` (the type of the pages below it) set or removed.
    PageType {
        section: usize,
    },
    Draft {
        page: usize,
    },
    /// A page, a page bundle or a subsection in a section's folder.
    Add {
        section: usize,
        name: usize,
        kind: usize,
    },
    Delete {
        page: usize,
    },
    DeleteSection {
        section: usize,
    },
    Rename {
        page: usize,
        name: usize,
    },
    /// A page moved into another section's folder.
    Move {
        page: usize,
        section: usize,
    },
    /// A section's folder renamed, with everything below it.
    RenameSection {
        section: usize,
        name: usize,
    },
    LinkAdd {
        doc: usize,
        target: usize,
        anchor: Option<usize>,
    },
    LinkBreak {
        doc: usize,
    },
    Template {
        how: usize,
    },
    Config {
        how: usize,
    },
    Asset {
        how: usize,
    },
    KeywordText {
        how: usize,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let i = || 0..64usize;
    prop_oneof![
        4 => (i(), 0..7usize).prop_map(|(doc, how)| Edit::Body { doc, how }),
        3 => (i(), 0..TITLES.len()).prop_map(|(doc, title)| Edit::Title { doc, title }),
        1 => (i(), proptest::option::of(0..TITLES.len()))
            .prop_map(|(doc, text)| Edit::Description { doc, text }),
        1 => (i(), proptest::option::of(0..NAMES.len())).prop_map(|(doc, slug)| Edit::Slug { doc, slug }),
        2 => (i(), proptest::option::of(0..4i64)).prop_map(|(doc, weight)| Edit::Weight { doc, weight }),
        2 => (i(), proptest::option::of(0..DATES.len())).prop_map(|(doc, date)| Edit::Date { doc, date }),
        3 => (i(), 0..KEYWORDS.len()).prop_map(|(doc, keyword)| Edit::KeywordAdd { doc, keyword }),
        2 => i().prop_map(|doc| Edit::KeywordRemove { doc }),
        2 => (i(), 0..KEYWORDS.len()).prop_map(|(from, to)| Edit::KeywordRename { from, to }),
        2 => i().prop_map(|page| Edit::Intern { page }),
        2 => i().prop_map(|section| Edit::InternSection { section }),
        1 => i().prop_map(|section| Edit::PageType { section }),
        2 => i().prop_map(|page| Edit::Draft { page }),
        2 => (i(), 0..NAMES.len(), 0..3usize).prop_map(|(section, name, kind)| Edit::Add { section, name, kind }),
        2 => i().prop_map(|page| Edit::Delete { page }),
        1 => i().prop_map(|section| Edit::DeleteSection { section }),
        2 => (i(), 0..NAMES.len()).prop_map(|(page, name)| Edit::Rename { page, name }),
        1 => (i(), i()).prop_map(|(page, section)| Edit::Move { page, section }),
        1 => (i(), 0..NAMES.len()).prop_map(|(section, name)| Edit::RenameSection { section, name }),
        2 => (i(), i(), proptest::option::of(0..ANCHORS.len()))
            .prop_map(|(doc, target, anchor)| Edit::LinkAdd { doc, target, anchor }),
        1 => i().prop_map(|doc| Edit::LinkBreak { doc }),
        2 => (0..8usize).prop_map(|how| Edit::Template { how }),
        2 => (0..6usize).prop_map(|how| Edit::Config { how }),
        1 => (0..4usize).prop_map(|how| Edit::Asset { how }),
        1 => (0..4usize).prop_map(|how| Edit::KeywordText { how }),
    ]
}

/// The fixture in a temporary folder, edited in place.
struct Fixture {
    site: SiteTest,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            site: SiteTest::new("incremental"),
        }
    }

    fn root(&self) -> &Path {
        self.site.root()
    }

    fn abs(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Markdown files below `content/` (as `content/…`), sorted, that `keep` accepts.
    fn markdown(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut all: Vec<String> = walkdir::WalkDir::new(self.abs("content"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                let rel = e.path().strip_prefix(self.root()).ok()?;
                Some(rel.to_string_lossy().replace('\\', "/"))
            })
            .filter(|rel| rel.ends_with(".md") && keep(rel))
            .collect();
        all.sort();
        all
    }

    /// Pages (not sections, not keyword descriptions).
    fn pages(&self) -> Vec<String> {
        self.markdown(|r| !r.ends_with("/_index.md") && !r.starts_with("content/suchworte/"))
    }

    /// Sections below the home page (not the keyword index).
    fn sections(&self) -> Vec<String> {
        self.markdown(|r| {
            r.ends_with("/_index.md")
                && r != "content/_index.md"
                && !r.starts_with("content/suchworte/")
        })
    }

    /// The folders of the sections, `content` too.
    fn section_dirs(&self) -> Vec<String> {
        let mut dirs: Vec<String> = self
            .sections()
            .iter()
            .map(|s| s.trim_end_matches("/_index.md").to_string())
            .collect();
        dirs.push("content".into());
        dirs
    }

    /// Pages and sections, the home page too.
    fn docs(&self) -> Vec<String> {
        self.markdown(|r| !r.starts_with("content/suchworte/"))
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.abs(rel)).unwrap_or_default()
    }

    /// Writes a file (and its folders); returns what changed, as the watcher would report it.
    fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> Vec<PathBuf> {
        let abs = self.abs(rel);
        let mut changed = Vec::new();
        let mut dir = abs.parent().map(Path::to_path_buf);
        while let Some(d) = dir.filter(|d| !d.exists()) {
            changed.push(d.clone());
            dir = d.parent().map(Path::to_path_buf);
        }
        std::fs::create_dir_all(abs.parent().unwrap()).unwrap();
        std::fs::write(&abs, text).unwrap();
        changed.push(abs);
        changed
    }

    fn remove(&self, rel: &str) -> Vec<PathBuf> {
        let abs = self.abs(rel);
        if abs.is_dir() {
            std::fs::remove_dir_all(&abs).unwrap();
        } else if abs.exists() {
            std::fs::remove_file(&abs).unwrap();
        }
        vec![abs]
    }

    /// Creates the file with `text` if it is missing, removes it if it is there.
    fn toggle(&self, rel: &str, text: &str) -> Vec<PathBuf> {
        if self.abs(rel).exists() {
            self.remove(rel)
        } else {
            self.write(rel, text)
        }
    }

    fn append(&self, rel: &str, text: &str) -> Vec<PathBuf> {
        let old = self.read(rel);
        self.write(rel, old + text)
    }

    /// A document's front matter and body.
    fn front(&self, rel: &str) -> (toml::Table, String) {
        let text = self.read(rel);
        let rest = text.strip_prefix("+++\n").unwrap_or(&text);
        let (fm, body) = rest.split_once("+++\n").unwrap_or(("", rest));
        (toml::from_str(fm).unwrap_or_default(), body.to_string())
    }

    fn set_front(&self, rel: &str, fm: &toml::Table, body: &str) -> Vec<PathBuf> {
        let fm = toml::to_string(fm).unwrap();
        self.write(rel, format!("+++\n{fm}+++\n{body}"))
    }

    /// Changes a document's front matter.
    fn with_front(&self, rel: &str, f: impl FnOnce(&mut toml::Table)) -> Vec<PathBuf> {
        let (mut fm, body) = self.front(rel);
        f(&mut fm);
        self.set_front(rel, &fm, &body)
    }

    fn keywords(fm: &mut toml::Table) -> &mut Vec<toml::Value> {
        let v = fm
            .entry("suchworte")
            .or_insert_with(|| toml::Value::Array(Vec::new()));
        if !v.is_array() {
            *v = toml::Value::Array(Vec::new());
        }
        v.as_array_mut().unwrap()
    }

    /// Every keyword in use, sorted.
    fn used_keywords(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .docs()
            .iter()
            .flat_map(|rel| {
                let (mut fm, _) = self.front(rel);
                Self::keywords(&mut fm)
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// `list[i % len]`, if the list has anything.
fn pick(list: &[String], i: usize) -> Option<&str> {
    (!list.is_empty()).then(|| list[i % list.len()].as_str())
}

fn toggle_flag(fm: &mut toml::Table, key: &str) {
    if fm.get(key).and_then(toml::Value::as_bool) == Some(true) {
        fm.remove(key);
    } else {
        fm.insert(key.into(), toml::Value::Boolean(true));
    }
}

fn date(s: &str) -> toml::Value {
    toml::Value::Datetime(s.parse().unwrap())
}

/// Applies an edit; returns the changed paths (empty when the edit found nothing to change).
fn apply(f: &Fixture, e: &Edit) -> Vec<PathBuf> {
    match *e {
        Edit::Body { doc, how } => pick(&f.docs(), doc).map(|d| edit_body(f, d, how)),
        Edit::Title { doc, title } => pick(&f.docs(), doc).map(|d| {
            f.with_front(d, |fm| {
                drop(fm.insert("title".into(), TITLES[title].into()))
            })
        }),
        Edit::Slug { doc, slug } => pick(&f.docs(), doc).map(|d| {
            f.with_front(d, |fm| match slug {
                Some(s) => drop(fm.insert("slug".into(), format!("{}-x", NAMES[s]).into())),
                None => drop(fm.remove("slug")),
            })
        }),
        Edit::Description { doc, text } => pick(&f.docs(), doc).map(|d| {
            f.with_front(d, |fm| match text {
                Some(t) => {
                    drop(fm.insert("description".into(), format!("Über {}", TITLES[t]).into()))
                }
                None => drop(fm.remove("description")),
            })
        }),
        Edit::Weight { doc, weight } => pick(&f.docs(), doc).map(|d| {
            f.with_front(d, |fm| match weight {
                Some(w) => drop(fm.insert("weight".into(), w.into())),
                None => drop(fm.remove("weight")),
            })
        }),
        Edit::Date { doc, date: which } => pick(&f.pages(), doc).map(|d| {
            f.with_front(d, |fm| match which {
                Some(i) => drop(fm.insert("date".into(), date(DATES[i]))),
                None => drop(fm.remove("date")),
            })
        }),
        Edit::Intern { page } => {
            pick(&f.pages(), page).map(|d| f.with_front(d, |fm| toggle_flag(fm, "intern")))
        }
        Edit::InternSection { section } => {
            pick(&f.sections(), section).map(|d| f.with_front(d, |fm| toggle_flag(fm, "intern")))
        }
        Edit::PageType { section } => pick(&f.sections(), section).map(|d| {
            f.with_front(d, |fm| match fm.remove("page_type") {
                Some(_) => {}
                None => drop(fm.insert("page_type".into(), "meldung".into())),
            })
        }),
        Edit::Draft { page } => {
            pick(&f.pages(), page).map(|d| f.with_front(d, |fm| toggle_flag(fm, "draft")))
        }
        _ => Some(apply_more(f, e)),
    }
    .unwrap_or_default()
}

fn apply_more(f: &Fixture, e: &Edit) -> Vec<PathBuf> {
    match *e {
        Edit::KeywordAdd { doc, keyword } => pick(&f.docs(), doc)
            .map(|d| f.with_front(d, |fm| Fixture::keywords(fm).push(KEYWORDS[keyword].into()))),
        Edit::KeywordRemove { doc } => pick(&f.docs(), doc).map(|d| {
            f.with_front(d, |fm| {
                Fixture::keywords(fm).pop();
                if Fixture::keywords(fm).is_empty() {
                    fm.remove("suchworte");
                }
            })
        }),
        Edit::KeywordRename { from, to } => {
            pick(&f.used_keywords(), from).map(|k| rename_keyword(f, k, KEYWORDS[to]))
        }
        Edit::Add {
            section,
            name,
            kind,
        } => Some(add(f, section, name, kind)),
        Edit::Delete { page } => pick(&f.pages(), page).map(|d| f.remove(d)),
        Edit::DeleteSection { section } => pick(&f.sections(), section).map(|d| f.remove(d)),
        Edit::Rename { page, name } => pick(&f.pages(), page).map(|d| rename(f, d, NAMES[name])),
        Edit::Move { page, section } => pick(&f.pages(), page)
            .zip(pick(&f.section_dirs(), section))
            .map(|(d, dir)| move_page(f, d, dir)),
        Edit::RenameSection { section, name } => pick(&f.sections(), section).map(|d| {
            let dir = d.trim_end_matches("/_index.md");
            let parent = dir.rsplit_once('/').map_or("content", |(p, _)| p);
            move_path(f, dir, &format!("{parent}/{}", NAMES[name]))
        }),
        Edit::LinkAdd {
            doc,
            target,
            anchor,
        } => pick(&f.docs(), doc)
            .zip(pick(&f.docs(), target))
            .map(|(d, t)| {
                let t = t.strip_prefix("content/").unwrap_or(t);
                let anchor = anchor.map_or(String::new(), |a| format!("#{}", ANCHORS[a]));
                f.append(d, &format!("\nSiehe [dort](@/{t}{anchor}).\n"))
            }),
        Edit::LinkBreak { doc } => pick(&f.docs(), doc)
            .map(|d| f.append(d, "\nEin [kaputter Link](@/gibt/es/nicht.md).\n")),
        Edit::Template { how } => Some(edit_template(f, how)),
        Edit::Config { how } => Some(edit_config(f, how)),
        Edit::Asset { how } => Some(edit_asset(f, how)),
        Edit::KeywordText { how } => Some(edit_keyword_text(f, how)),
        _ => None,
    }
    .unwrap_or_default()
}

fn edit_body(f: &Fixture, rel: &str, how: usize) -> Vec<PathBuf> {
    let (fm, body) = f.front(rel);
    let body = match how {
        0 => body + "\nEin neuer Satz.\n",
        1 => body + "\n## Neuer Abschnitt\n\nMit Text.\n",
        // Drops every link and heading of the page (anchors others link to, too).
        2 => "Nur noch dieser Text.\n".to_string(),
        3 => body + "\nHerausgegeben vom {{ extra.herausgeber }}.\n",
        // An unknown configuration value: an error.
        4 => body + "\nUnbekannt: {{ extra.fehlt }}.\n",
        5 => body + "\n## Grundlagen {#grundlagen}\n\nNoch einmal.\n",
        // The closing `+++` gone: an error (the next front matter edit repairs it).
        _ => return f.write(rel, format!("+++\ntitle = \"Kaputt\"\n{body}")),
    };
    f.set_front(rel, &fm, &body)
}

fn rename_keyword(f: &Fixture, from: &str, to: &str) -> Vec<PathBuf> {
    let mut changed = Vec::new();
    for rel in f.docs() {
        let (mut fm, body) = f.front(&rel);
        let list = Fixture::keywords(&mut fm);
        if !list.iter().any(|v| v.as_str() == Some(from)) {
            continue;
        }
        for v in list.iter_mut().filter(|v| v.as_str() == Some(from)) {
            *v = to.into();
        }
        changed.extend(f.set_front(&rel, &fm, &body));
    }
    changed
}

fn add(f: &Fixture, section: usize, name: usize, kind: usize) -> Vec<PathBuf> {
    let dirs = f.section_dirs();
    let dir = &dirs[section % dirs.len()];
    let name = NAMES[name % NAMES.len()];
    let rel = match kind {
        0 => format!("{dir}/{name}.md"),
        1 => format!("{dir}/{name}/index.md"),
        _ => format!("{dir}/{name}/_index.md"),
    };
    let title = TITLES[name.len() % TITLES.len()];
    let keyword = KEYWORDS[(name.len() + kind) % KEYWORDS.len()];
    f.write(
        &rel,
        format!(
            "+++\ntitle = \"{title}\"\nsuchworte = [\"{keyword}\"]\n+++\nNeu: [Recht](@/themen/recht.md).\n"
        ),
    )
}

/// Renames a page (a bundle: its folder) within its folder; nothing if the name is taken.
fn rename(f: &Fixture, rel: &str, name: &str) -> Vec<PathBuf> {
    let (from, to) = match rel.strip_suffix("/index.md") {
        Some(bundle) => {
            let parent = bundle.rsplit_once('/').map_or("content", |(p, _)| p);
            (bundle.to_string(), format!("{parent}/{name}"))
        }
        None => {
            let parent = rel.rsplit_once('/').map_or("content", |(p, _)| p);
            (rel.to_string(), format!("{parent}/{name}.md"))
        }
    };
    move_path(f, &from, &to)
}

/// Moves a page (a bundle: its folder) into the folder `dir`; nothing if the name is taken.
fn move_page(f: &Fixture, rel: &str, dir: &str) -> Vec<PathBuf> {
    let from = rel.strip_suffix("/index.md").unwrap_or(rel);
    let name = from.rsplit('/').next().unwrap_or(from);
    move_path(f, from, &format!("{dir}/{name}"))
}

/// Renames a file or folder; nothing if the new name is taken or inside the old one.
fn move_path(f: &Fixture, from: &str, to: &str) -> Vec<PathBuf> {
    if f.abs(to).exists() || to.starts_with(&format!("{from}/")) {
        return Vec::new();
    }
    std::fs::rename(f.abs(from), f.abs(to)).unwrap();
    vec![f.abs(from), f.abs(to)]
}

fn theme_template(f: &Fixture, name: &str) -> String {
    f.read(&format!("themes/test/templates/{name}"))
}

fn edit_template(f: &Fixture, how: usize) -> Vec<PathBuf> {
    match how {
        0 => {
            let rel = "templates/page.html";
            let text = match f.read(rel) {
                t if t.is_empty() => theme_template(f, "page.html"),
                t => t,
            };
            f.write(rel, text + "note: edited override\n")
        }
        1 => f.append("themes/test/templates/section.html", "note: edited theme\n"),
        2 => {
            let text = theme_template(f, "keyword.html").replace("name:", "keyword name:");
            f.toggle("templates/keyword.html", &text)
        }
        3 => {
            let text = theme_template(f, "page.html").replace(
                "template: page.html\n",
                "template: page.html (site override)\n",
            );
            f.toggle("templates/page.html", &text)
        }
        // A template that does not compile: an error.
        4 => f.toggle("templates/section.html", "{{ oops\n"),
        // The theme's strings (index.html shows `t.home`).
        5 => {
            let rel = "themes/test/i18n/de.toml";
            let text = f.read(rel);
            let text = match text.contains(" (neu)") {
                true => text.replace(" (neu)", ""),
                false => text.replace("(aus t)", "(aus t) (neu)"),
            };
            f.write(rel, text)
        }
        6 => {
            let text = theme_template(f, "macros.html").replace("[{{ l.title", "[» {{ l.title");
            f.toggle("templates/macros.html", &text)
        }
        // Keyword pages that print their entries whole: every summary text is read (the
        // render stage cannot see which, render/text_reads.rs).
        _ => {
            let text = theme_template(f, "keyword.html")
                + "entries: {{ keyword.pages | json_encode() | safe }}\n";
            f.toggle("templates/keyword.html", &text)
        }
    }
}

fn edit_config(f: &Fixture, how: usize) -> Vec<PathBuf> {
    let mut c: toml::Table = toml::from_str(&f.read("config.toml")).unwrap();
    let swap = |v: &mut toml::Value, a: &str, b: &str| {
        *v = if v.as_str() == Some(a) { b } else { a }.into();
    };
    let table = |c: &mut toml::Table, path: &[&str]| -> toml::Table {
        let mut t = c.clone();
        for k in path {
            t = t
                .get(*k)
                .and_then(toml::Value::as_table)
                .cloned()
                .unwrap_or_default();
        }
        t
    };
    match how {
        0 => swap(
            c.entry("title").or_insert("".into()),
            "Inkrementell",
            "Anders",
        ),
        1 | 2 => {
            let mut syn = table(&mut c, &["keywords", "synonyms"]);
            if how == 1 && syn.remove("Hilfe").is_none() {
                syn.insert("Hilfe".into(), "Beratung".into());
            } else if how == 2 {
                swap(syn.entry("Rat").or_insert("".into()), "Beratung", "Recht");
            }
            let mut kw = table(&mut c, &["keywords"]);
            kw.insert("synonyms".into(), syn.into());
            c.insert("keywords".into(), kw.into());
        }
        3 => {
            let mut kw = table(&mut c, &["keywords"]);
            let mut see = table(&mut c, &["keywords", "see_also"]);
            let one: toml::Value = vec!["Recht"].into();
            let two: toml::Value = vec!["Recht", "Arbeit"].into();
            let now = see.get("Beratung") == Some(&one);
            see.insert("Beratung".into(), if now { two } else { one });
            kw.insert("see_also".into(), see.into());
            c.insert("keywords".into(), kw.into());
        }
        4 => {
            let mut extra = table(&mut c, &["extra"]);
            swap(
                extra.entry("herausgeber").or_insert("".into()),
                "Musteramt",
                "Testamt",
            );
            c.insert("extra".into(), extra.into());
        }
        _ => swap(c.entry("description").or_insert("".into()), "Eins", "Zwei"),
    }
    f.write("config.toml", toml::to_string(&c).unwrap())
}

fn edit_asset(f: &Fixture, how: usize) -> Vec<PathBuf> {
    match how {
        // A file in the page bundle (if the bundle is still there: else wherever it lands).
        0 => f.toggle("content/projekte/beta/anhang.txt", "Anhang\n"),
        1 => f.append("content/projekte/beta/plan.pdf", "% mehr\n"),
        2 => f.toggle("static/hinweis.txt", "Hinweis\n"),
        // A file that belongs to recht.md by its name.
        _ => f.toggle("content/themen/recht.anlage.txt", "Anlage\n"),
    }
}

fn edit_keyword_text(f: &Fixture, how: usize) -> Vec<PathBuf> {
    match how {
        0 => f.append("content/suchworte/beratung.md", "\nMehr zur Beratung.\n"),
        1 => f.toggle(
            "content/suchworte/arbeit.md",
            "+++\ntitle = \"Arbeit\"\n+++\nArbeit und Beschäftigung.\n",
        ),
        2 => f.append("content/suchworte/_index.md", "\nNoch ein Satz.\n"),
        // A description of a keyword nobody uses.
        _ => f.toggle(
            "content/suchworte/unbenutzt.md",
            "+++\ntitle = \"Unbenutzt\"\n+++\nGibt es nicht.\n",
        ),
    }
}

fn options(root: &Path, target: &str) -> BuildOptions {
    BuildOptions {
        root: root.to_path_buf(),
        overrides: Overrides {
            target: Some(target.into()),
            ..Overrides::default()
        },
        write: false,
        progress: Progress::Quiet,
    }
}

/// At most this many lines of a diff per output, and characters of a line.
const DIFF_LINES: usize = 8;
const DIFF_WIDTH: usize = 160;

/// The differing middle of two texts: the lines of each between the common head and tail,
/// long lines cut to a window from a little before their first difference.
fn line_diff(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (first_a, first_b) = (a.get(head).copied(), b.get(head).copied());
    let same = first_a.zip(first_b).map_or(0, |(x, y)| {
        x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count()
    });
    let from = same.saturating_sub(DIFF_WIDTH / 4);
    let mut out = format!("    @@ line {}, from column {}\n", head + 1, from + 1);
    for (sign, lines) in [("-", &a), ("+", &b)] {
        for l in lines[head..lines.len() - tail].iter().take(DIFF_LINES) {
            let cut: String = l.chars().skip(from).take(DIFF_WIDTH).collect();
            out.push_str(&format!("    {sign} {cut}\n"));
        }
    }
    out
}

/// What differs between the incremental run (`-`) and the fresh one (`+`).
fn describe(inc: &Outputs, fresh: &Outputs) -> String {
    match (inc, fresh) {
        (Ok(a), Ok(b)) => {
            let mut out = String::new();
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            let differing = keys.into_iter().filter(|k| a.get(*k) != b.get(*k));
            for k in differing.take(6) {
                match (a.get(k), b.get(k)) {
                    (Some(_), None) => {
                        out.push_str(&format!("  {k}: only in the incremental run\n"))
                    }
                    (None, Some(_)) => out.push_str(&format!("  {k}: only in the fresh run\n")),
                    (Some(x), Some(y)) => {
                        out.push_str(&format!("  {k} differs:\n{}", line_diff(x, y)))
                    }
                    (None, None) => {}
                }
            }
            out
        }
        (Err(a), Err(b)) => format!(
            "  different errors:\n  incremental:\n{}\n  fresh:\n{}",
            a.join("\n"),
            b.join("\n")
        ),
        (Err(a), Ok(b)) => format!(
            "  the incremental run failed, the fresh one built {} outputs:\n{}",
            b.len(),
            a.join("\n")
        ),
        (Ok(a), Err(b)) => format!(
            "  the incremental run built {} outputs, the fresh one failed:\n{}",
            a.len(),
            b.join("\n")
        ),
    }
}

/// One preview (with its memo) per target, each checked against a fresh run.
struct Previews {
    runs: Vec<(BuildOptions, Preview)>,
}

impl Previews {
    fn start(root: &Path) -> Result<Self, TestCaseError> {
        let mut p = Previews {
            runs: TARGETS
                .iter()
                .map(|t| (options(root, t), Preview::new(options(root, t))))
                .collect(),
        };
        p.check(None, "the first run")?;
        Ok(p)
    }

    fn check(&mut self, changed: Option<&[PathBuf]>, what: &str) -> Result<(), TestCaseError> {
        for (opts, preview) in &mut self.runs {
            let inc = preview.run(changed);
            let fresh = preview_api::fresh(opts);
            let target = opts.overrides.target.as_deref().unwrap_or_default();
            prop_assert!(
                inc == fresh,
                "target {}, after {}: the incremental run differs from a fresh one\n{}",
                target,
                what,
                describe(&inc, &fresh)
            );
        }
        Ok(())
    }
}

/// Cases: `PROPTEST_CASES` or 80 (about a minute in the debug test profile on 2 shared cores).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(80);
    ProptestConfig {
        cases,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn preview_after_each_edit_equals_a_fresh_build(edits in prop::collection::vec(edit(), 1..8)) {
        let f = Fixture::new();
        let mut previews = Previews::start(f.root())?;
        for (step, e) in edits.iter().enumerate() {
            let changed = apply(&f, e);
            let what = format!("step {} ({e:?}; changed: {changed:?})", step + 1);
            previews.check(Some(&changed), &what)?;
        }
    }
}

/// The fixture builds for both targets, with its intern content only in the intranet, so the
/// property starts from a site that exercises what it should.
#[test]
fn fixture_builds_for_both_targets() {
    let f = Fixture::new();
    let built: BTreeMap<&str, BTreeMap<String, Vec<u8>>> = TARGETS
        .iter()
        .map(|t| match preview_api::fresh(&options(f.root(), t)) {
            Ok(o) => (*t, o),
            Err(e) => panic!("{t}: {}", e.join("\n")),
        })
        .collect();
    let gamma = "projekte/intern/gamma/index.html";
    assert!(built["intranet"].contains_key(gamma));
    assert!(!built["internet"].contains_key(gamma));
    assert!(!built["intranet"].contains_key("themen/entwurf/index.html"));
    let januar = String::from_utf8_lossy(&built["internet"]["aktuelles/januar/index.html"]);
    assert!(januar.contains("type: meldung"), "{januar}");
    for (t, o) in &built {
        assert_eq!(o["(warnings)"], b"", "{t}: warnings");
        let plan = o.keys().any(|k| k.ends_with("plan.pdf"));
        assert!(plan, "{t}: the bundle's asset");
    }
}

/// The first bug the property found: a missing page's "did you mean" hint picked among equally
/// close pages in hash map order, so two builds of the same site could differ. Now the first in
/// sorted order wins (`themen/aerger.md` before `themen/recht.md`), in every run.
#[test]
fn missing_page_hint_is_the_same_in_every_run() {
    let f = Fixture::new();
    rename(&f, "content/themen/arbeit.md", "neu");
    for _ in 0..8 {
        let errors = preview_api::fresh(&options(f.root(), "intranet")).unwrap_err();
        let all = errors.join("\n");
        assert!(
            all.contains("hint: did you mean `themen/aerger.md`?"),
            "{all}"
        );
    }
}

/// The anchor check and the backlinks of a preview look at the pages an edit touches and at
/// the pages that link to them: a heading dropped on a linked page breaks the link written on
/// another, unchanged page (an error, as in a fresh build), and links dropped from a page leave
/// their targets' backlinks.
#[test]
fn dropped_headings_and_links_reach_the_pages_that_link_there() {
    let f = Fixture::new();
    let mut previews = Previews::start(f.root()).unwrap();
    // (file, body edit, whether the site is broken afterwards)
    let steps: [(&str, usize, bool); 5] = [
        // Drops `#grundlagen`, which themen/arbeit.md links to.
        ("content/themen/recht.md", 2, true),
        ("content/themen/recht.md", 5, false),
        // Drops `#ziele`, which aktuelles/maerz.md links to; then maerz.md drops the link.
        ("content/projekte/beta/index.md", 2, true),
        ("content/aktuelles/maerz.md", 2, false),
        // Drops the links of themen/arbeit.md (themen/recht.md loses a backlink) and its
        // heading `#vermittlung`, which themen/aerger.md links to.
        ("content/themen/arbeit.md", 2, true),
    ];
    for (step, (rel, how, broken)) in steps.into_iter().enumerate() {
        let changed = edit_body(&f, rel, how);
        let what = format!("step {} (body edit {how} of {rel})", step + 1);
        previews.check(Some(&changed), &what).unwrap();
        let fresh = preview_api::fresh(&options(f.root(), "intranet"));
        match fresh {
            Err(e) => assert!(
                broken && e.join("\n").contains("missing anchor"),
                "{what}: {e:?}"
            ),
            Ok(_) => assert!(!broken, "{what}: the link should be broken"),
        }
    }
}

/// Templates that could reach a summary text in ways the render stage cannot see (here:
/// keyword pages that print their entries whole) count every listed text as read: a new first
/// sentence on a page with a description still reaches the keyword pages that list it, while
/// the section listings (which show the description) need not change.
#[test]
fn opaque_templates_see_every_listed_summary_text() {
    let f = Fixture::new();
    edit_template(&f, 7);
    let pages = f.pages();
    for rel in &pages {
        let (mut fm, body) = f.front(rel);
        fm.insert("description".into(), "Kurz gefasst".into());
        f.set_front(rel, &fm, &body);
    }
    let mut previews = Previews::start(f.root()).unwrap();
    for (step, rel) in pages.iter().enumerate() {
        let (fm, body) = f.front(rel);
        let changed = f.set_front(rel, &fm, &format!("Neu im Schritt {step}.\n\n{body}"));
        let what = format!("step {} (a new first sentence in {rel})", step + 1);
        if let Err(e) = previews.check(Some(&changed), &what) {
            panic!("{e}");
        }
    }
}
