// The file-share target in a real browser: builds the portal with `--target dateiablage` (relative
// links, no server) into a temporary folder, opens file://…/index.html in Chromium and visits
// every page reachable by links (breadth first, bounded). Each navigation must succeed (no
// ERR_FILE_NOT_FOUND), each page's stylesheet must be loaded with rules, every subresource must
// load, every link must be relative and name a file (…/index.html, style.css, data.csv), and
// every linked file must exist.
//
//   node file-mode.mjs <wegweiser-binary> <site-root>
//
// Prints "file-mode: N pages, 0 broken links" and exits 0, or lists the problems and exits 1.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const MAX_PAGES = 2000;
const TIME_LIMIT_MS = 5 * 60 * 1000;

const [binArg, rootArg] = process.argv.slice(2);
if (!binArg || !rootArg) {
  console.error('usage: node file-mode.mjs <wegweiser-binary> <site-root>');
  process.exit(2);
}
const tmp = await mkdtemp(join(tmpdir(), 'ww-file-mode-'));
const out = join(tmp, 'dateiablage');
execFileSync(resolve(binArg), ['build', '--root', resolve(rootArg), '--target', 'dateiablage', '--output-dir', out], { stdio: 'inherit' });

const root = pathToFileURL(out + '/').href; // file:///…/dateiablage/
const shown = (url) => (url.startsWith(root) ? url.slice(root.length) : url);
const problems = [];
const problem = (where, what) => problems.push(`${shown(where)}: ${what}`);

async function isFile(url) {
  try {
    return (await stat(fileURLToPath(url))).isFile();
  } catch {
    return false;
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const context = await browser.newContext();
const page = await context.newPage();
// Stylesheets from another file:// URL are cross-origin for the page's script, so their rules are
// read through the DevTools protocol, which sees every stylesheet of the page.
const cdp = await context.newCDPSession(page);
let sheets = [];
cdp.on('CSS.styleSheetAdded', (e) => sheets.push(e.header));
await cdp.send('DOM.enable');
await cdp.send('CSS.enable');
let failed = [];
page.on('requestfailed', (r) => failed.push(`${shown(r.url())} (${r.failure()?.errorText})`));
page.on('pageerror', (e) => failed.push(`script error: ${e.message}`));

const start = Date.now();
const start_url = root + 'index.html';
const queue = [[start_url, 'start']];
const seen = new Set([start_url]);
let pages = 0;
let links = 0;
while (queue.length > 0) {
  if (pages >= MAX_PAGES) { problem(root, `more than ${MAX_PAGES} pages`); break; }
  if (Date.now() - start > TIME_LIMIT_MS) { problem(root, 'time limit reached'); break; }
  const [url, from] = queue.shift();
  sheets = [];
  failed = [];
  try {
    await page.goto(url, { waitUntil: 'load' });
  } catch (e) {
    problem(url, `navigation failed (linked from ${shown(from)}): ${e.message.split('\n')[0]}`);
    continue;
  }
  pages++;
  const info = await page.evaluate(() => {
    const attrs = [];
    for (const [sel, attr] of [['a[href]', 'href'], ['link[href]', 'href'], ['script[src]', 'src'],
      ['img[src]', 'src'], ['source[src]', 'src'], ['iframe[src]', 'src'], ['form[action]', 'action']]) {
      for (const el of document.querySelectorAll(sel)) attrs.push([el.tagName.toLowerCase(), el.getAttribute(attr)]);
    }
    const styles = [...document.querySelectorAll('link[rel~="stylesheet"]')].map((l) => ({ href: l.href, loaded: l.sheet !== null }));
    let sameOriginRules = 0;
    for (const s of document.styleSheets) {
      try { sameOriginRules += s.cssRules.length; } catch { /* cross-origin file: read via CDP */ }
    }
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    const names = [...document.querySelectorAll('a[name]')].map((e) => e.getAttribute('name'));
    return { attrs, styles, sameOriginRules, ids: [...ids, ...names] };
  });
  // Stylesheets: every linked one loaded and non-empty.
  await new Promise((r) => setTimeout(r, 0));
  if (info.styles.length === 0) problem(url, 'no stylesheet linked');
  for (const s of info.styles) {
    const header = sheets.find((h) => h.sourceURL === s.href && !h.isInline);
    if (!s.loaded || !header || header.length === 0) problem(url, `stylesheet ${shown(s.href)} not loaded`);
    else {
      const { text } = await cdp.send('CSS.getStyleSheetText', { styleSheetId: header.styleSheetId });
      if (!/\{[^}]*\}/.test(text)) problem(url, `stylesheet ${shown(s.href)} has no rules`);
    }
  }
  for (const f of failed) problem(url, `failed to load ${f}`);
  // Links: relative, naming a file, existing; pages are queued.
  const ids = new Set(info.ids);
  for (const [tag, value] of info.attrs) {
    links++;
    const v = value.trim();
    if (v.startsWith('#')) {
      const id = decodeURIComponent(v.slice(1));
      if (id !== '' && id !== 'top' && !ids.has(id)) problem(url, `<${tag}> ${v}: no such anchor`);
      continue;
    }
    if (/^(mailto|tel):/i.test(v)) continue;
    if (/^[a-z][a-z0-9+.-]*:/i.test(v) || v.startsWith('//') || v.startsWith('/')) {
      problem(url, `<${tag}> ${v}: not a relative link`);
      continue;
    }
    const path = v.split(/[?#]/)[0];
    const last = path.split('/').pop();
    if (!last.includes('.')) {
      problem(url, `<${tag}> ${v}: does not name a file (…/index.html)`);
      continue;
    }
    const target = new URL(v, url);
    target.hash = '';
    target.search = '';
    if (!target.href.startsWith(root)) {
      problem(url, `<${tag}> ${v}: leaves the output folder`);
      continue;
    }
    if (!(await isFile(target.href))) {
      problem(url, `<${tag}> ${v}: ${shown(target.href)} does not exist`);
      continue;
    }
    if (tag === 'a' && target.href.endsWith('.html') && !seen.has(target.href)) {
      seen.add(target.href);
      queue.push([target.href, url]);
    }
  }
}
await browser.close();
await rm(tmp, { recursive: true, force: true });

if (pages < 2) problem(root, `only ${pages} page(s) reached`);
if (problems.length > 0) {
  for (const p of problems) console.log(`  ${p}`);
  console.log(`file-mode: ${pages} pages, ${problems.length} broken links (${links} links checked)`);
  process.exit(1);
}
console.log(`file-mode: ${links} links checked`);
console.log(`file-mode: ${pages} pages, 0 broken links`);
