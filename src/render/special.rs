//! Pages made from a template alone: the search page and the 404 page.

use std::path::PathBuf;

use tera::{Context, Tera};

use super::views::Ctx;
use super::{Job, Prepared};
use crate::config::Settings;

/// URL path of the search page.
pub(crate) const SEARCH_PATH: &str = "/suche/";

/// The special pages this target has: the search page where the target has search and the
/// theme a `search.html`, the 404 page where the theme has a `404.html`.
pub(super) fn jobs(settings: &Settings, tera: &Tera) -> Vec<Job> {
    let has = |name: &str| tera.get_template_names().any(|x| x == name);
    let mut jobs = Vec::new();
    if settings.target.search && has("search.html") {
        jobs.push(Job::Special("search.html", SEARCH_PATH));
    }
    if has("404.html") {
        jobs.push(Job::Special("404.html", "/404.html"));
    }
    jobs
}

/// Puts a special page's view into the context: only its `breadcrumbs` (the home page).
pub(super) fn prepare(
    ctx: &Ctx<'_>,
    c: &mut Context,
    template: &'static str,
    path: &'static str,
) -> Prepared {
    c.insert("breadcrumbs", &[ctx.link(ctx.home())]);
    Prepared {
        template: template.to_string(),
        path: path.to_string(),
        source: PathBuf::from(template),
        lent: None,
    }
}
