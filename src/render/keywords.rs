//! The keyword index (`/suchworte/`, by initial letter) and one page per keyword.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;
use tera::Context;

use super::views::{insert_view, Ctx, KeywordView, LinkView, Listed};
use super::Prepared;
use crate::config::Settings;

use crate::model::{KeywordHtml, KeywordId};

/// A keyword's page. Serialised once into the context: the listed summaries are borrowed.
#[derive(Serialize)]
struct KeywordPageView<'a> {
    name: &'a str,
    slug: &'a str,
    permalink: String,
    count: usize,
    content: &'a str,
    pages: Listed,
    related: Vec<RelatedView<'a>>,
    see_also: Vec<KeywordView<'a>>,
    breadcrumbs: [LinkView<'a>; 2],
}

#[derive(Serialize)]
struct RelatedView<'a> {
    #[serde(flatten)]
    keyword: KeywordView<'a>,
    /// Pages carrying both keywords.
    shared: usize,
}

/// Title of the keyword index: its `_index.md` title, else the theme's `keywords` string, else
/// the index's path.
pub(super) fn index_title(
    settings: &Settings,
    html: &KeywordHtml,
    translations: &BTreeMap<String, String>,
) -> String {
    html.index_title
        .clone()
        .or_else(|| translations.get("keywords").cloned())
        .unwrap_or_else(|| settings.keywords.path.clone())
}

/// Puts the keyword index's view into the context (`keywords`).
pub(super) fn index(ctx: &Ctx<'_>, kw_html: &KeywordHtml, c: &mut Context) -> Prepared {
    let path = ctx.keyword_index_path();
    let mut letters: Vec<String> = ('A'..='Z').map(|c| c.to_string()).collect();
    letters.push("#".into());
    let groups = letter_groups(ctx);
    let view = json!({
        "title": kw_html.index_title.clone(),
        "description": kw_html.index_description,
        "content": kw_html.index,
        "total": ctx.keyword_count(),
        "permalink": ctx.permalink(&path),
        "letters": letters.iter().map(|l| json!({
            "letter": l,
            "anchor": anchor(l),
            "present": groups.iter().any(|(g, _)| g == l),
        })).collect::<Vec<_>>(),
        "groups": groups.iter().map(|(l, ks)| json!({
            "letter": l,
            "anchor": anchor(l),
            "keywords": ks.iter().map(|&k| ctx.keyword_view(k)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    c.insert("keywords", &view);
    Prepared {
        template: "keywords.html".into(),
        path,
        source: PathBuf::from(format!("content/{}", ctx.settings.keywords.path)),
        lent: None,
    }
}

/// The keywords by index letter, in the keywords' order within a letter; "#" (digits,
/// symbols) after Z, as in printed indexes.
fn letter_groups(ctx: &Ctx<'_>) -> Vec<(String, Vec<KeywordId>)> {
    let mut groups: Vec<(String, Vec<KeywordId>)> = Vec::new();
    for i in KeywordId::all(ctx.keyword_count()) {
        let l = crate::collate::index_letter(&ctx.keyword(i).name);
        match groups.iter_mut().find(|(g, _)| *g == l) {
            Some((_, v)) => v.push(i),
            None => groups.push((l, vec![i])),
        }
    }
    groups.sort_by_key(|(l, _)| (l == "#", l.clone()));
    groups
}

/// The anchor of a letter's group on the index page.
fn anchor(l: &str) -> String {
    if l == "#" {
        "zeichen".to_string()
    } else {
        format!("buchstabe-{}", l.to_lowercase())
    }
}

/// Puts keyword `k`'s page view into the context (`keyword`).
pub(super) fn page(
    ctx: &Ctx<'_>,
    kw_html: &KeywordHtml,
    c: &mut Context,
    k: KeywordId,
) -> Prepared {
    let kw = ctx.keyword(k);
    let path = ctx.keyword_path(&kw.slug);
    let index_path = ctx.keyword_index_path();
    let view = KeywordPageView {
        name: &kw.name,
        slug: &kw.slug,
        permalink: ctx.permalink(&path),
        count: kw.pages.len(),
        content: kw_html.descriptions.get(&k).map_or("", String::as_str),
        pages: ctx.listed(&kw.pages),
        related: kw
            .related
            .iter()
            .map(|&(r, shared)| RelatedView {
                keyword: ctx.keyword_view(r),
                shared,
            })
            .collect(),
        see_also: kw.see_also.iter().map(|&s| ctx.keyword_view(s)).collect(),
        breadcrumbs: [
            ctx.link(ctx.home()),
            LinkView {
                title: ctx.keywords_title(),
                permalink: ctx.permalink(&index_path),
                path: &index_path,
            },
        ],
    };
    let lent = insert_view(ctx, c, "keyword", &view, &[("pages", &view.pages)]);
    let source = kw.description.as_ref().map_or_else(
        || PathBuf::from(format!("keyword `{}`", kw.name)),
        |d| d.src.shown.clone(),
    );
    Prepared {
        template: "keyword.html".into(),
        path,
        source,
        lent: Some(lent),
    }
}
