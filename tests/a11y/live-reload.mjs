// `wegweiser serve` in a real browser: live reload and the error overlay.
//
// Creates a new site with `wegweiser init` in a temporary folder (default theme, base URL with
// the sub-path /vorschau/), adds one page, starts `wegweiser serve` on a free port and opens the
// page in Chromium. Then, each step bounded to 10 s:
//   1. edits the page's Markdown → the tab reloads by itself and shows the new text;
//   2. breaks the front matter (invalid TOML) → the tab keeps the last good text and shows the
//      overlay #wegweiser-errors (role=alertdialog) with "content/seite.md:LINE:COL: error: …",
//      without a reload;
//   3. fixes the file → the tab reloads by itself, the overlay is gone, the fixed text shows.
//
//   node live-reload.mjs <wegweiser-binary>
//
// Prints "live-reload: ok" and exits 0, or says what went wrong (with the server's output) and
// exits 1.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const STEP_MS = 10_000;
const START_MS = 20_000;
const TOTAL_MS = 120_000;

const [binArg] = process.argv.slice(2);
if (!binArg) {
  console.error('usage: node live-reload.mjs <wegweiser-binary>');
  process.exit(2);
}
const bin = resolve(binArg);

let server = null;
let serverLog = '';
let browser = null;
let tmp = null;
let cleaningUp = false;

async function cleanUp() {
  cleaningUp = true;
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
  }
  if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => {});
}

async function fail(message) {
  console.error(`live-reload: FAILED: ${message}`);
  if (serverLog) console.error(`--- wegweiser serve printed:\n${serverLog}`);
  await cleanUp();
  process.exit(1);
}

const watchdog = setTimeout(() => fail(`time limit of ${TOTAL_MS} ms reached`), TOTAL_MS);

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Calls `check` until it returns a truthy value; fails after `ms` with `what`. */
async function until(what, check, ms = STEP_MS) {
  const end = Date.now() + ms;
  let last = null;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      // A navigation (the live reload) destroys the page's context mid-check: try again.
      last = e;
    }
    await sleep(50);
  }
  await fail(`${what} not within ${ms} ms${last ? ` (last error: ${last.message.split('\n')[0]})` : ''}`);
}

function freePort() {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.once('error', ko);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function get(url, ms) {
  const r = await fetch(url, { signal: AbortSignal.timeout(ms), cache: 'no-store' });
  return { status: r.status, text: await r.text() };
}

function page(body, title = 'Seite') {
  return `+++\ntitle = "${title}"\ndescription = "Eine Seite zum Testen"\n+++\n\n${body}\n`;
}

try {
  // --- a new site with one page ---------------------------------------------------------------
  tmp = await mkdtemp(join(tmpdir(), 'ww-live-reload-'));
  const root = join(tmp, 'site');
  execFileSync(bin, ['init', root], { stdio: ['ignore', 'ignore', 'pipe'] });
  const configPath = join(root, 'config.toml');
  const config = await readFile(configPath, 'utf8');
  const withPath = config.replace(/^base_url = .*$/m, 'base_url = "https://www.example.org/vorschau/"');
  if (withPath === config) await fail('config.toml of `wegweiser init` has no base_url line');
  await writeFile(configPath, withPath);
  const md = join(root, 'content', 'seite.md');
  await writeFile(md, page('Erste Fassung ALPHA.'));

  // --- the server -------------------------------------------------------------------------------
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/vorschau/seite/`;
  server = spawn(bin, ['serve', '--root', root, '--port', String(port)], {
    env: { PATH: process.env.PATH, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  server.on('exit', (code, signal) => {
    if (!cleaningUp) fail(`wegweiser serve ended (${signal ?? `exit code ${code}`})`);
  });

  await until('the server answering', async () => {
    const r = await get(url, 2000);
    return r.status === 200 && r.text.includes('ALPHA');
  }, START_MS);
  // The file watcher starts just after the first answer: save the page unchanged until the
  // server notices, so the edits below cannot fall into that gap.
  const first = JSON.parse((await get(`${origin}/__wegweiser/poll?v=0`, 5000)).text).version;
  await until('the server noticing a saved file', async () => {
    await writeFile(md, page('Erste Fassung ALPHA.'));
    try {
      const r = await get(`${origin}/__wegweiser/poll?v=${first}`, 500);
      return JSON.parse(r.text).version !== first;
    } catch {
      return false;
    }
  }, START_MS);

  // --- the browser ------------------------------------------------------------------------------
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  const tab = await (await browser.newContext()).newPage();
  const scriptErrors = [];
  tab.on('pageerror', (e) => scriptErrors.push(e.message));
  let loads = 0;
  tab.on('load', () => { loads++; });
  await tab.goto(url, { waitUntil: 'load' });
  const text = () => tab.evaluate(() => document.body.innerText);
  const overlay = () => tab.evaluate(() => {
    const box = document.getElementById('wegweiser-errors');
    if (!box) return null;
    const style = getComputedStyle(box);
    return {
      role: box.getAttribute('role'),
      label: box.getAttribute('aria-label'),
      visible: style.display !== 'none' && style.visibility !== 'hidden' && box.getBoundingClientRect().height > 0,
      text: box.innerText,
    };
  });
  if (!(await text()).includes('Erste Fassung ALPHA.')) await fail('the page does not show its text');
  if (await overlay()) await fail('an error overlay on a good page');
  const hasScript = await tab.evaluate(() => !!document.querySelector('script[src="/__wegweiser/live.js"]'));
  if (!hasScript) await fail('no live-reload script in the page');
  // Let live.js start its long poll.
  await sleep(300);

  // 1. An edit reloads the tab by itself.
  await tab.evaluate(() => { window.__notReloaded = true; });
  let loadsBefore = loads;
  await writeFile(md, page('Zweite Fassung BETA.'));
  await until('the tab reloading with the edited text', async () => {
    const t = await text();
    // A new document (the flag is gone) that has finished loading.
    return t.includes('Zweite Fassung BETA.') && !(await tab.evaluate(() => window.__notReloaded === true))
      && loads > loadsBefore;
  });
  if (await overlay()) await fail('an error overlay after a good edit');
  await sleep(300);

  // 2. Broken front matter: the overlay with file:line:col, over the last good version.
  await tab.evaluate(() => { window.__notReloaded = true; });
  loadsBefore = loads;
  await writeFile(md, '+++\ntitle = "Seite\ndescription = "kaputt"\n+++\n\nKaputte Fassung GAMMA.\n');
  const shown = await until('the error overlay', async () => {
    const o = await overlay();
    return o && o.visible && /content\/seite\.md:\d+:\d+: error: /.test(o.text) ? o : null;
  });
  if (shown.role !== 'alertdialog') await fail(`the overlay's role is ${shown.role}, not alertdialog`);
  if (!shown.label) await fail('the overlay has no accessible name');
  if (!/content\/seite\.md:2:\d+: error: /.test(shown.text)) {
    await fail(`the overlay names the wrong place:\n${shown.text}`);
  }
  const under = await text();
  if (!under.includes('Zweite Fassung BETA.') || under.includes('Kaputte Fassung GAMMA.')) {
    await fail('the page under the overlay is not the last good version');
  }
  if (!(await tab.evaluate(() => window.__notReloaded === true)) || loads !== loadsBefore) {
    await fail('the tab reloaded for a failed build');
  }

  // 3. The fix: reload, no overlay, the fixed text.
  await writeFile(md, page('Dritte Fassung DELTA.'));
  await until('the tab reloading with the fixed text and no overlay', async () => {
    const t = await text();
    return t.includes('Dritte Fassung DELTA.') && !(await overlay())
      && !(await tab.evaluate(() => window.__notReloaded === true));
  });
  // And it stays gone (no late overlay from a stale poll).
  await sleep(500);
  if (await overlay()) await fail('the overlay came back after the fix');
  if (scriptErrors.length) await fail(`script errors in the page: ${scriptErrors.join('; ')}`);

  clearTimeout(watchdog);
  await cleanUp();
  console.log('live-reload: ok');
  process.exit(0);
} catch (e) {
  await fail(e.stack || String(e));
}
