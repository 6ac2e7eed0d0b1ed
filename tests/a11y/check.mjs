// Builds a site and checks every page: Nu Html Checker (vnu) for validity, axe-core for
// WCAG 2.1 AA, and no horizontal scrolling at 320 px. Serves the site itself on 127.0.0.1.
//
//   node check.mjs <wegweiser-binary> <site-root>
//
// The site is built with --base-url http://127.0.0.1:<free port>/ so that styles and links
// load from this server (the machine has no other network).
import { createServer } from 'node:http';
import { readFile, readdir, stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join, extname, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const [binArg, rootArg] = process.argv.slice(2);
if (!binArg || !rootArg) {
  console.error('usage: node check.mjs <wegweiser-binary> <site-root>');
  process.exit(2);
}
const site = join(await mkdtemp(join(tmpdir(), 'ww-a11y-')), 'public');
const types = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.csv': 'text/csv',
  '.xml': 'application/xml', '.txt': 'text/plain', '.pdf': 'application/pdf' };

async function walk(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await walk(p));
    else out.push(p);
  }
  return out;
}

const server = createServer(async (req, res) => {
  try {
    let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = resolve(join(site, p));
    if (!file.startsWith(site)) throw new Error('outside');
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream' });
    res.end(await readFile(file));
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const port = server.address().port;
execFileSync(resolve(binArg), ['build', '--root', resolve(rootArg), '--base-url', `http://127.0.0.1:${port}/`, '--output-dir', site], { stdio: 'inherit' });

const pages = (await walk(site)).filter((f) => f.endsWith('.html'));
let failures = 0;

// 1. Nu Html Checker over all pages in one JVM.
const vnu = require.resolve('vnu-jar/build/dist/vnu.jar');
try {
  execFileSync('java', ['-jar', vnu, '--errors-only', '--format', 'gnu', ...pages], { stdio: 'pipe' });
  console.log(`vnu: ${pages.length} pages, 0 errors`);
} catch (e) {
  const text = `${e.stdout || ''}${e.stderr || ''}`.trim();
  const lines = text.split('\n').filter(Boolean);
  failures += lines.length;
  console.log(`vnu: ${lines.length} errors`);
  for (const l of lines) console.log(`  ${l.replace(site + sep, '')}`);
}

// 2. axe-core (WCAG 2.1 A/AA) at 1280 px and 320 px, plus a check for horizontal scrolling.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
let violations = 0;
for (const width of [1280, 320]) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(`http://127.0.0.1:${port}/`) && !r.url().startsWith('data:')) external.push(r.url()); });
  for (const file of pages) {
    const path = '/' + relative(site, file).split(sep).join('/').replace(/index\.html$/, '');
    await page.goto(`http://127.0.0.1:${port}${path}`, { waitUntil: 'load' });
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
    });
    for (const v of result) {
      violations++;
      console.log(`axe ${width}px ${path}: ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (width === 320 && overflow > 0) {
      violations++;
      console.log(`reflow 320px ${path}: page is ${overflow}px wider than the viewport`);
    }
  }
  if (external.length) {
    violations += external.length;
    console.log(`external requests (not allowed): ${[...new Set(external)].join(', ')}`);
  }
  await context.close();
}
console.log(`axe: ${pages.length} pages at 1280 and 320 px, ${violations} violations`);
failures += violations;
await browser.close();
server.close();
await rm(join(site, '..'), { recursive: true, force: true });
console.log(failures === 0 ? 'a11y: 0 problems' : `a11y: ${failures} problems`);
process.exit(failures === 0 ? 0 : 1);
