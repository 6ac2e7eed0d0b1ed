//! Stage 6b: the static full-text search index (Pagefind, used as a library).
//!
//! Takes the site and the rendered bodies of this target and returns the index files under
//! `pagefind/`. Only documents this target publishes are in the site, so internal pages never
//! reach a public index. Pagefind stems German words and splits the index into small chunks that
//! the browser loads on demand.

use std::collections::BTreeMap;

use crate::config::Settings;
use crate::error::BuildError;
use crate::model::{Body, FieldValue, Output, Site, BUNDLE_DIR};

/// Plain text of HTML: tags dropped, entities for the common characters decoded.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

fn fail(e: impl std::fmt::Display) -> BuildError {
    BuildError::Other(vec![
        "building the search index failed".into(),
        format!("{e:#}"),
    ])
}

pub(crate) fn index(
    settings: &Settings,
    site: &Site,
    bodies: &[std::sync::Arc<Body>],
) -> Result<Vec<Output>, BuildError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| {
            BuildError::Other(vec![
                "cannot start the search indexer".into(),
                e.to_string(),
            ])
        })?;
    runtime.block_on(async {
        let options = pagefind::options::PagefindServiceConfig::builder()
            .force_language(settings.language.clone())
            .build();
        let mut idx = pagefind::api::PagefindIndex::new(Some(options)).map_err(fail)?;
        for (node, body) in site.nodes.iter().zip(bodies) {
            let fm = &node.doc.fm;
            let mut content = String::new();
            let mut parts: Vec<String> = vec![fm.title.clone(), fm.description.clone()];
            for (_, v) in &fm.fields {
                match v {
                    FieldValue::Text(t) => parts.push(t.clone()),
                    FieldValue::List(l) => parts.push(l.join(", ")),
                    _ => {}
                }
            }
            for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
                content.push_str(part);
                // Sentences for the excerpts, without doubling a final full stop.
                if !part.ends_with(['.', '!', '?', ':']) {
                    content.push('.');
                }
                content.push(' ');
            }
            for (_, html) in &body.field_html {
                content.push_str(&text_of(html));
                content.push(' ');
            }
            content.push_str(&text_of(&body.html));
            let mut meta = BTreeMap::new();
            meta.insert("title".to_string(), fm.title.clone());
            if let Some(p) = node.parent {
                meta.insert("section".to_string(), site.nodes[p].doc.fm.title.clone());
            }
            let url = format!("{}{}", settings.base_url, &node.path[1..]);
            idx.add_custom_record(
                url,
                content,
                settings.language.clone(),
                Some(meta),
                None,
                None,
            )
            .await
            .map_err(fail)?;
        }
        let files = idx.get_files().await.map_err(fail)?;
        Ok(files
            .into_iter()
            .map(|f| Output {
                rel: format!(
                    "{BUNDLE_DIR}/{}",
                    f.filename.to_string_lossy().replace('\\', "/")
                )
                .into(),
                bytes: std::sync::Arc::new(f.contents),
                source: std::path::Path::new("search index").into(),
            })
            .collect())
    })
}
