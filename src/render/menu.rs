//! The main menu, rendered once per [`MenuState`] instead of once per page.

use crate::hash::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use tera::{Context, Tera};

use super::failure::{render_capped, RenderError};
use super::views::SiteView;
use crate::template_guard::{self as guard, Budget};

/// The main menu's template, rendered once per [`MenuState`] when a template uses `menu_html`.
pub(crate) const MENU_TEMPLATE: &str = "partials/menu.html";

/// Which entry of the main menu is current on a page: the same for all pages below one
/// top-level section, so the menu is rendered once per state, not once per page (with a
/// hundred top-level sections, the menu loop was a fifth of every page's template time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub(super) struct MenuState<'a> {
    /// The page is the home page.
    home: bool,
    /// Path of the menu entry that is the page itself, or "".
    current: &'a str,
    /// Path of the menu entry the page is below, or "".
    inside: &'a str,
    /// The keyword index: "page" on it, "true" below it (keyword pages), else "".
    keywords: &'static str,
}

pub(super) struct MenuCache<'a> {
    tera: &'a Tera,
    budget: &'a Budget,
    /// `site` and `t`.
    base: &'a Context,
    paths: Vec<&'a str>,
    keywords_url: &'a str,
    rendered: Mutex<HashMap<MenuState<'a>, Arc<String>>>,
}

impl<'a> MenuCache<'a> {
    /// `base` holds `site` and `t`; the menu's entries are `site.menu`.
    pub(super) fn new(
        tera: &'a Tera,
        budget: &'a Budget,
        base: &'a Context,
        site: &'a SiteView<'a>,
    ) -> Self {
        MenuCache {
            tera,
            budget,
            base,
            paths: site.menu.iter().map(|l| l.path).collect(),
            keywords_url: &site.keywords_url,
            rendered: Mutex::new(HashMap::default()),
        }
    }

    pub(super) fn state(&self, current_path: &str, current_url: &str) -> MenuState<'a> {
        let mut state = MenuState {
            home: current_path == "/",
            current: "",
            inside: "",
            keywords: "",
        };
        for &p in &self.paths {
            if current_path == p {
                state.current = p;
            } else if p != "/" && current_path.starts_with(p) && state.inside.is_empty() {
                state.inside = p;
            }
        }
        state.keywords = if current_url == self.keywords_url {
            "page"
        } else if current_url.starts_with(self.keywords_url) {
            "true"
        } else {
            ""
        };
        state
    }

    pub(super) fn html(&self, state: MenuState<'a>) -> Result<Arc<String>, RenderError> {
        let lock = || self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(html) = lock().get(&state) {
            return Ok(html.clone());
        }
        // Rendered outside the lock; two workers may render the same state once each.
        let mut c = self.base.clone();
        c.insert("menu_state", &state);
        let html = render_capped(self.tera, self.budget, MENU_TEMPLATE, &c, guard::MAX_OUTPUT)?;
        // Without the whitespace around the template's comment and list: base.html places it.
        let html = Arc::new(html.trim().to_string());
        lock().insert(state, html.clone());
        Ok(html)
    }
}
