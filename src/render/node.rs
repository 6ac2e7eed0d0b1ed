//! Outputs made from one node: its page or section (with pagination) and the section's extra
//! outputs such as `projekte.csv`; which template each renders with, and the job list entries.

use serde::Serialize;
use tera::{Context, Tera};

use super::templates::Templates;
use super::views::{insert_view, Ctx, Listed, PageView};
use super::{Job, Prepared};
use crate::error::{did_you_mean, Diagnostic};
use crate::model::{At, ExtraId, Node, NodeId};

#[derive(Serialize)]
struct PaginatorView {
    current: usize,
    total: usize,
    first: String,
    last: String,
    prev: Option<String>,
    next: Option<String>,
    pages: Vec<PagerLink>,
}

#[derive(Serialize)]
struct PagerLink {
    number: usize,
    permalink: String,
    current: bool,
}

#[derive(Serialize)]
struct SectionView<'a> {
    #[serde(flatten)]
    page: PageView<'a>,
    pages: Listed,
    subsections: Listed,
    paginator: Option<PaginatorView>,
    all_pages: Listed,
}

/// The jobs of node `id`: its page, the section's further pages and its extra outputs.
/// Errors: an extra output or a `template` that names no usable template.
pub(super) fn jobs(ctx: &Ctx<'_>, tera: &Tera, id: NodeId, jobs: &mut Vec<Job>) -> Vec<Diagnostic> {
    let n = ctx.node(id);
    let mut diags = Vec::new();
    jobs.push(Job::Node(id));
    if n.is_section() && n.doc.fm.paginate_by > 0 {
        let pages = n.pages.len().div_ceil(n.doc.fm.paginate_by);
        for p in 2..=pages {
            jobs.push(Job::SectionPage(id, p));
        }
    }
    for (i, o) in ExtraId::all(n.doc.fm.outputs.len()).zip(&n.doc.fm.outputs) {
        if tera.get_template_names().any(|x| x == o.value) {
            jobs.push(Job::Extra(id, i));
        } else {
            diags.push(
                Diagnostic::error(
                    &n.doc.src.shown,
                    format!("no template `{}` for this output", o.value),
                )
                .at(&n.doc.src.text, o.offset)
                .with_hint(format!(
                    "create templates/{} in the site or the theme",
                    o.value
                )),
            );
        }
    }
    if let Some(t) = &n.doc.fm.template {
        diags.extend(check_page_template(n, t, tera));
    }
    diags
}

/// A template named in front matter must exist and be an HTML template: the page is written
/// as `index.html`, and only `.html` templates escape what editors write (a `.csv` or `.json`
/// template would put their markup into the page raw).
fn check_page_template(n: &Node, t: &At<String>, tera: &Tera) -> Option<Diagnostic> {
    let err = |msg: String| Diagnostic::error(&n.doc.src.shown, msg).at(&n.doc.src.text, t.offset);
    if !tera.get_template_names().any(|x| x == t.value) {
        let names: Vec<&str> = tera.get_template_names().collect();
        return Some(
            err(format!("template `{}` not found", t.value)).with_hint(
                did_you_mean(&t.value, names.iter().copied())
                    .unwrap_or_else(|| "put it in templates/ of the site or of the theme".into()),
            ),
        );
    }
    if !t.value.ends_with(".html") {
        return Some(
            err(format!("template `{}` is not an HTML template", t.value)).with_hint(
                "a page is written as HTML: choose a template ending in .html (such as page.html); \
                 files such as projekte.csv belong in `outputs`",
            ),
        );
    }
    None
}

/// The template a node's job renders with: an extra output's own, the front matter's, the
/// content type's (`projekt.html`) if the theme has it, or the default for its kind.
pub(super) fn node_template(ctx: &Ctx<'_>, tera: &Tera, job: &Job, id: NodeId) -> String {
    let n = ctx.node(id);
    if let Job::Extra(_, i) = *job {
        return n.doc.fm.outputs[i].value.clone();
    }
    match &n.doc.fm.template {
        Some(t) => t.value.clone(),
        None if n.is_section() && id == ctx.home() => "index.html".into(),
        None if n.is_section() => "section.html".into(),
        None => n
            .doc
            .fm
            .doc_type
            .as_ref()
            .map(|t| format!("{t}.html"))
            .filter(|t| tera.get_template_names().any(|x| x == t))
            .unwrap_or_else(|| "page.html".into()),
    }
}

fn paginated_path(path: &str, page: usize) -> String {
    if page <= 1 {
        path.to_string()
    } else {
        format!("{path}seite/{page}/")
    }
}

/// Puts the node's view into the context (`page`, or `section` with its listings) for page
/// `page_no` of a paginated section (1 otherwise).
pub(super) fn prepare(
    ctx: &Ctx<'_>,
    templates: &Templates,
    c: &mut Context,
    job: &Job,
    id: NodeId,
    page_no: usize,
) -> Prepared {
    let n = ctx.node(id);
    let path = paginated_path(&n.path, page_no);
    let template = node_template(ctx, &templates.tera, job, id);
    let lent = if n.is_section() {
        let all_pages = templates.all_pages.contains(&template);
        let view = section_view(ctx, id, page_no, all_pages);
        let lists = [
            ("pages", &view.pages),
            ("subsections", &view.subsections),
            ("all_pages", &view.all_pages),
        ];
        Some(insert_view(ctx, c, "section", &view, &lists))
    } else {
        c.insert("page", &ctx.page(id));
        None
    };
    Prepared {
        template,
        path,
        source: n.doc.src.shown.clone(),
        lent,
    }
}

/// A section's view on page `page_no`: its pages (this page's slice of them when paginated),
/// subsections, and `all_pages` only where the template reads it.
fn section_view<'a>(ctx: &Ctx<'a>, id: NodeId, page_no: usize, all_pages: bool) -> SectionView<'a> {
    let n = ctx.node(id);
    let per = n.doc.fm.paginate_by;
    let (slice, paginator) = if per > 0 {
        let start = (page_no - 1) * per;
        let slice = &n.pages[start.min(n.pages.len())..(start + per).min(n.pages.len())];
        (slice, Some(paginator(ctx, n, page_no)))
    } else {
        (&n.pages[..], None)
    };
    SectionView {
        page: ctx.page(id),
        pages: ctx.listed(slice),
        subsections: ctx.listed(&n.subsections),
        paginator,
        all_pages: if all_pages {
            ctx.all_pages(id)
        } else {
            Listed(Vec::new())
        },
    }
}

fn paginator(ctx: &Ctx<'_>, n: &Node, page_no: usize) -> PaginatorView {
    let total = n.pages.len().div_ceil(n.doc.fm.paginate_by).max(1);
    let link = |p: usize| ctx.permalink(&paginated_path(&n.path, p));
    PaginatorView {
        current: page_no,
        total,
        first: link(1),
        last: link(total),
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: (page_no < total).then(|| link(page_no + 1)),
        pages: (1..=total)
            .map(|p| PagerLink {
                number: p,
                permalink: link(p),
                current: p == page_no,
            })
            .collect(),
    }
}
