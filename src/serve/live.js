// wegweiser dev server: reloads the page after a successful rebuild and shows build errors
// as an overlay. Injected into every HTML page by `wegweiser serve`; never in a real build.
(() => {
  const me = document.currentScript;
  let version = Number(me.dataset.version);
  const initial = JSON.parse(me.dataset.errors || '[]');
  // The page shown while no build has succeeded lists the errors itself and is replaced by
  // the site (or the new errors) on every change.
  const errorPage = me.dataset.page === 'errors';

  function overlay(errors) {
    let box = document.getElementById('wegweiser-errors');
    if (!errors.length) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement('div');
      box.id = 'wegweiser-errors';
      box.setAttribute('role', 'alertdialog');
      box.setAttribute('aria-label', 'Build error');
      box.style.cssText = 'position:fixed;inset:0;z-index:2147483647;overflow:auto;' +
        'background:rgba(20,20,20,.94);color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2rem';
      document.body.appendChild(box);
    }
    box.textContent = '';
    const h = document.createElement('h2');
    h.textContent = 'Build failed: the page shows the last good version';
    h.style.cssText = 'color:#ff8080;font:bold 18px/1.3 sans-serif;margin:0 0 1rem';
    box.appendChild(h);
    for (const e of errors) {
      const pre = document.createElement('pre');
      pre.textContent = e;
      pre.style.cssText = 'white-space:pre-wrap;margin:0 0 1rem;color:#fff';
      box.appendChild(pre);
    }
  }

  if (!errorPage) overlay(initial);
  const poll = async () => {
    for (;;) {
      try {
        const r = await fetch(`/__wegweiser/poll?v=${version}`, { cache: 'no-store' });
        const state = await r.json();
        if (state.version !== version) {
          version = state.version;
          if (errorPage) { location.reload(); return; }
          if (state.errors.length) overlay(state.errors);
          else { location.reload(); return; }
        }
      } catch (_) {
        await new Promise((ok) => setTimeout(ok, 1000));
      }
    }
  };
  poll();
})();
