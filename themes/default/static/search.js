/*
 * wegweiser default theme – full-text search on the search page (/suche/).
 *
 * Loaded only by search.html, as a classic deferred script (a module could
 * not be loaded at all on a page opened from file://). No inline script is
 * needed: URLs and texts come from data-* attributes of #ww-search, so a
 * strict Content-Security-Policy works (Pagefind itself needs
 * script-src 'self' 'wasm-unsafe-eval' and worker-src 'self').
 *
 * Without JavaScript the form submits ?q= to the same page and a <noscript>
 * text points to the keyword index. Where the search cannot run (file://,
 * Pagefind not loadable) the form is replaced by the notice that is already
 * in the page – never a search box that does nothing.
 */
(function () {
  'use strict';

  var root = document.getElementById('ww-search');
  if (!root) return;

  var PAGE_SIZE = 10;
  var DEBOUNCE_MS = 300;

  var form = document.getElementById('ww-search-form');
  var input = document.getElementById('ww-q');
  var status = document.getElementById('ww-search-status');
  var none = document.getElementById('ww-search-none');
  var results = document.getElementById('ww-search-results');
  var list = document.getElementById('ww-search-list');
  var more = document.getElementById('ww-search-more');
  var unavailable = document.getElementById('ww-search-unavailable');
  var data = root.dataset;
  var baseTitle = document.title;

  // "{count} Treffer für „{query}“" → filled in.
  function fill(text, values) {
    return String(text || '').replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  // The search cannot run: show the notice instead of the form.
  function giveUp(error) {
    if (error && window.console) console.warn('search unavailable:', error);
    var hadFocus = form.contains(document.activeElement);
    form.hidden = true;
    results.hidden = true;
    none.hidden = true;
    status.textContent = '';
    unavailable.hidden = false;
    if (hadFocus) unavailable.focus();
  }

  if (location.protocol === 'file:' || !data.bundle || !('fetch' in window)) {
    giveUp();
    return;
  }

  // Pagefind is loaded once, on page load: if it cannot be loaded, the
  // notice replaces the form before anybody types.
  var pagefind = import(data.bundle + 'pagefind.js').then(function (pf) {
    return Promise.resolve(pf.init()).then(function () { return pf; });
  });
  pagefind.catch(giveUp);

  // State of the current query; `serial` drops answers to outdated queries.
  var serial = 0;
  var current = { query: '', hits: [], shown: 0 };

  // Pagefind's excerpt is HTML: text (already escaped) with <mark> around the
  // hits. Rebuild it from text nodes and <mark> elements only, so nothing
  // else from the index can ever become markup.
  function excerptNodes(html) {
    var tpl = document.createElement('template');
    tpl.innerHTML = html || '';
    var out = document.createDocumentFragment();
    (function copy(from) {
      from.childNodes.forEach(function (n) {
        if (n.nodeType === Node.TEXT_NODE) {
          out.appendChild(document.createTextNode(n.nodeValue));
        } else if (n.nodeType === Node.ELEMENT_NODE && n.nodeName === 'MARK') {
          var mark = document.createElement('mark');
          mark.textContent = n.textContent;
          out.appendChild(mark);
        } else if (n.nodeType === Node.ELEMENT_NODE) {
          copy(n);
        }
      });
    })(tpl.content);
    return out;
  }

  function resultItem(hit) {
    var li = document.createElement('li');
    li.className = 'search-hit';
    var h = document.createElement('h3');
    h.className = 'search-hit__title';
    var a = document.createElement('a');
    a.href = hit.url;
    a.textContent = (hit.meta && hit.meta.title) || hit.url;
    h.appendChild(a);
    li.appendChild(h);
    if (hit.meta && hit.meta.section) {
      var s = document.createElement('p');
      s.className = 'search-hit__section';
      s.textContent = (data.tSection ? data.tSection + ' ' : '') + hit.meta.section;
      li.appendChild(s);
    }
    if (hit.excerpt) {
      var p = document.createElement('p');
      p.className = 'search-hit__excerpt';
      p.appendChild(excerptNodes(hit.excerpt));
      li.appendChild(p);
    }
    return { li: li, link: a };
  }

  function announce() {
    var n = current.hits.length;
    var values = { count: n, query: current.query, shown: current.shown };
    var text;
    if (n === 0) text = data.tNone;
    else if (n === 1) text = data.tOne;
    else if (n > current.shown) text = data.tPartial;
    else text = data.tMany;
    status.textContent = fill(text, values);
  }

  // Appends the next PAGE_SIZE hits (for a new query: replaces the list
  // once their data is there, so it does not flicker); returns the first
  // new link.
  function showMore(mine) {
    var slice = current.hits.slice(current.shown, current.shown + PAGE_SIZE);
    return Promise.all(slice.map(function (r) { return r.data(); })).then(function (hits) {
      if (mine !== serial) return null;
      if (current.shown === 0) list.textContent = '';
      var first = null;
      hits.forEach(function (hit) {
        var item = resultItem(hit);
        list.appendChild(item.li);
        if (!first) first = item.link;
      });
      current.shown += slice.length;
      more.hidden = current.shown >= current.hits.length;
      return first;
    });
  }

  function setUrl(query) {
    var url = new URL(location.href);
    if (query) url.searchParams.set('q', query);
    else url.searchParams.delete('q');
    if (url.href !== location.href) history.replaceState(null, '', url.href);
    document.title = query ? fill(data.tTitle, { query: query }) : baseTitle;
  }

  function clear() {
    serial++;
    current = { query: '', hits: [], shown: 0 };
    list.textContent = '';
    results.hidden = true;
    none.hidden = true;
    more.hidden = true;
    status.textContent = '';
    setUrl('');
  }

  function run(raw) {
    var query = raw.trim();
    if (!query) { clear(); return; }
    if (query === current.query) return;
    var mine = ++serial;
    results.setAttribute('aria-busy', 'true');
    pagefind
      .then(function (pf) { return pf.search(query); })
      .then(function (answer) {
        if (mine !== serial) return null;
        current = { query: query, hits: (answer && answer.results) || [], shown: 0 };
        return showMore(mine);
      })
      .then(function () {
        if (mine !== serial) return;
        results.removeAttribute('aria-busy');
        results.hidden = current.hits.length === 0;
        none.hidden = current.hits.length !== 0;
        setUrl(query);
        announce();
      })
      .catch(function (error) {
        if (mine === serial) giveUp(error);
      });
  }

  var timer = 0;
  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { run(input.value); }, DEBOUNCE_MS);
  });
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearTimeout(timer);
    current.query = '';  // Enter always searches (and announces) again
    run(input.value);
  });
  more.addEventListener('click', function () {
    var mine = serial;
    showMore(mine).then(function (first) {
      if (mine !== serial) return;
      announce();
      // Keyboard and screen-reader users continue at the first new hit.
      if (first) first.focus();
      else input.focus();
    }).catch(giveUp);
  });

  var initial = new URL(location.href).searchParams.get('q');
  if (initial) {
    input.value = initial;
    run(initial);
  }
})();
