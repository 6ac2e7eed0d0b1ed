//! The repository's own `content/` and `config.toml` read as plain data, for the tests of the
//! bundled portal that derive what they expect from the sources (`portal.rs`, `portal_leak.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::scan;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A content file: front matter and body.
pub struct Doc {
    /// The path below `content/`, with `/`.
    pub rel: String,
    pub raw: String,
    pub fm: toml::Table,
    pub body: String,
}

impl Doc {
    pub fn flag(&self, key: &str) -> bool {
        self.fm.get(key).and_then(toml::Value::as_bool) == Some(true)
    }

    pub fn str(&self, key: &str) -> &str {
        self.fm.get(key).and_then(toml::Value::as_str).unwrap_or("")
    }

    pub fn keywords(&self) -> Vec<String> {
        match self.fm.get("suchworte").and_then(toml::Value::as_array) {
            Some(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            None => Vec::new(),
        }
    }

    /// The URL path: folders and file name as URL segments (the last one from `slug` if set),
    /// e.g. `/initiativen/equal/aktionen/`; `/` for the home page.
    pub fn url_path(&self) -> String {
        let mut segs: Vec<String> = self
            .rel
            .trim_end_matches(".md")
            .split('/')
            .map(scan::slug)
            .collect();
        if segs.last().is_some_and(|s| s == "index") {
            segs.pop();
        }
        if !self.str("slug").is_empty() && !segs.is_empty() {
            let last = segs.len() - 1;
            segs[last] = scan::slug(self.str("slug"));
        }
        if segs.is_empty() {
            "/".to_string()
        } else {
            format!("/{}/", segs.join("/"))
        }
    }
}

/// Every Markdown file below `content/`, sorted by path.
pub fn docs() -> Vec<Doc> {
    let content = repo().join("content");
    let mut docs = Vec::new();
    for f in scan::files(&content) {
        if f.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let text = text
            .strip_prefix('\u{feff}')
            .unwrap_or(&text)
            .replace("\r\n", "\n");
        let rest = text.strip_prefix("+++\n").expect("front matter");
        let end = rest.find("\n+++").expect("end of front matter");
        let fm: toml::Table = toml::from_str(&rest[..end]).unwrap();
        let body = rest[end + 4..].trim_start_matches('\n').to_string();
        docs.push(Doc {
            raw: text.clone(),
            rel: scan::rel(&content, &f),
            fm,
            body,
        });
    }
    assert!(docs.len() > 30, "content/ has the portal's pages");
    docs
}

/// Folder of a content path (`a/b/c.md` → `a/b`).
pub fn folder(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Whether each document is internal: `intern = true`, or below a section with `intern = true`.
pub fn internal(docs: &[Doc]) -> Vec<bool> {
    let intern_dirs: Vec<&str> = docs
        .iter()
        .filter(|d| d.rel.ends_with("_index.md") && d.flag("intern"))
        .map(|d| folder(&d.rel))
        .collect();
    docs.iter()
        .map(|d| {
            d.flag("intern")
                || intern_dirs
                    .iter()
                    .any(|dir| dir.is_empty() || d.rel.starts_with(&format!("{dir}/")))
        })
        .collect()
}

/// `config.toml` as a table.
pub fn config() -> toml::Table {
    toml::from_str(&std::fs::read_to_string(repo().join("config.toml")).unwrap()).unwrap()
}

/// The `[keywords]` settings that decide which keyword a written one is: its URL segment and
/// the synonyms (variant → preferred), compared regardless of case.
pub struct Keywords {
    pub path: String,
    synonyms: BTreeMap<String, String>,
}

impl Keywords {
    pub fn from_config(config: &toml::Table) -> Self {
        let keywords = config.get("keywords");
        let path = keywords
            .and_then(|k| k.get("path"))
            .and_then(toml::Value::as_str)
            .unwrap_or("suchworte")
            .to_string();
        let synonyms = keywords
            .and_then(|k| k.get("synonyms"))
            .and_then(toml::Value::as_table)
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap_or("").to_lowercase()))
                    .collect()
            })
            .unwrap_or_default();
        Keywords { path, synonyms }
    }

    /// The keyword `k` stands for, lower case.
    pub fn canonical(&self, k: &str) -> String {
        let k = k.trim().to_lowercase();
        self.synonyms.get(&k).cloned().unwrap_or(k)
    }
}
