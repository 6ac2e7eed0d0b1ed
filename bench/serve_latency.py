#!/usr/bin/env python3
"""Edit-to-served latency of `wegweiser serve` on a 10,000-page site (goal: < 50 ms).

    python3 bench/serve_latency.py                   # 10,000 pages, 20 edits
    python3 bench/serve_latency.py --pages 1000 --edits 40 --keep
    python3 bench/serve_latency.py --shape sections500   # 20 sections of 500 pages, 500 keywords

`--shape` is bench/gen_corpus.py's: `default` (N/100 sections, keywords skewed) or
`sections500` (N/500 sections of 500 pages, N/20 keywords used evenly, ~90 pages each), where a
title edit changes a 500-page listing and keyword pages of ~90 pages.

Generates the synthetic corpus with bench/gen_corpus.py (waits up to 15 minutes for that file
to appear, else writes a simple corpus itself) into a work folder on tmpfs, starts
`target/release/wegweiser serve` on it, waits for the first build, then edits N pages one after
the other. Each edit writes a unique marker at the start of a page's body (so its summary
changes too); every 5th edit also puts the marker into the page's title. The clock starts just
before the file is written (time.perf_counter) and stops when an HTTP GET over a persistent
connection, polled in a tight loop, returns the marker: for body edits on the page itself; for
title edits on the page, on its section's listing and on one of its keyword pages (all three).

A second pass repeats the N edits (on other pages) polling with a fresh connection per GET:
tiny_http answers on a kept-alive connection in two writes without TCP_NODELAY, so the client's
delayed ACK can hold the end of every larger response ~40 ms (Nagle); browsers on keep-alive
connections see that too. The fresh-connection figures are the server's own latency.

Prints a Markdown report: median, p90 and max per kind of edit, each edit with what serve
printed ("updated content/…: N files in M ms"), and writes it to WORK/report.md.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GEN = REPO / "bench" / "gen_corpus.py"
GOAL_MS = 50.0


def log(msg: str) -> None:
    print(f"[serve_latency {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------


def wait_for_generator(minutes: int) -> bool:
    """bench/gen_corpus.py may still be being written: check every minute."""
    for i in range(minutes + 1):
        if GEN.is_file():
            return True
        if i < minutes:
            log(f"{GEN} not there yet; checking again in a minute ({i + 1}/{minutes})")
            time.sleep(60)
    return False


def simple_corpus(root: Path, pages: int, seed: int, shape: str) -> None:
    """A plain corpus in case gen_corpus.py never appears: 100 pages a section (500 for the
    sections500 shape), 5 keywords a page out of 500, a few links, German-ish text."""
    rng = random.Random(seed)
    words = ("Arbeit Förderung Beratung Maßnahme Träger Jobcenter Kommune Ausbildung Netzwerk "
             "Qualifizierung Integration Beschäftigung Projekt Region Übergang Straße Bürger "
             "Vermittlung Eingliederung Zuschuss").split()
    keywords = [f"{rng.choice(words)}{rng.choice(words).lower()} {i}" for i in range(500)]
    if root.exists():
        shutil.rmtree(root)
    (root / "themes").mkdir(parents=True)
    # Copied: wegweiser refuses a theme linked from outside the site.
    shutil.copytree(REPO / "themes" / "default", root / "themes" / "default")
    (root / "config.toml").write_text(
        'title = "Benchmark"\nbase_url = "http://127.0.0.1/"\nlanguage = "de"\n'
        'theme = "default"\nsearch = false\n', encoding="utf-8")
    content = root / "content"
    content.mkdir()
    (content / "_index.md").write_text('+++\ntitle = "Start"\n+++\n\nWillkommen.\n', "utf-8")
    n_sections = max(1, pages // (500 if shape == "sections500" else 100))
    rels = []
    for s in range(n_sections):
        d = content / f"bereich-{s}"
        d.mkdir()
        (d / "_index.md").write_text(f'+++\ntitle = "Bereich {s}"\nweight = {s}\n+++\n\n'
                                     f"Bereich {s}.\n", "utf-8")
    for p in range(pages):
        rels.append(f"bereich-{p % n_sections}/seite-{p}.md")
    for p, rel in enumerate(rels):
        kws = ", ".join(json.dumps(k, ensure_ascii=False) for k in rng.sample(keywords, 5))
        paras = []
        for _ in range(rng.randint(4, 8)):
            paras.append(" ".join(rng.choice(words) for _ in range(rng.randint(40, 80))) + ".")
        other = rels[rng.randrange(len(rels))]
        paras.insert(2, f"Siehe auch [eine andere Seite](@/{other}).")
        text = (f'+++\ntitle = "Seite {p} {rng.choice(words)}"\nweight = {p}\n'
                f"suchworte = [{kws}]\n+++\n\n" + "\n\n".join(paras) + "\n")
        (content / rel).write_text(text, "utf-8")


def make_corpus(work: Path, pages: int, seed: int, wait_minutes: int, shape: str) -> Path:
    out = work / "corpus"
    root = out / "wegweiser"
    if wait_for_generator(wait_minutes):
        log(f"generating {pages} pages of shape {shape} with bench/gen_corpus.py")
        subprocess.run([sys.executable, str(GEN), "--pages", str(pages), "--seed", str(seed),
                        "--shape", shape, "--out", str(out),
                        # A theme linked from outside the site is refused (docs/security.md).
                        "--copy-theme"], check=True, stdout=sys.stderr)
        hugo = out / "hugo"
        if hugo.exists():
            shutil.rmtree(hugo)  # only the wegweiser site is needed here
    else:
        log(f"{GEN} still missing: generating a simple corpus of {pages} pages")
        simple_corpus(root, pages, seed, shape)
    (out / "SHAPE").write_text(shape, "utf-8")  # for --reuse
    return root


def corpus_facts(content: Path, rels: list[str]) -> str:
    """Sections, the largest section's direct pages, keywords and pages per keyword (median),
    read back from the files, for the report."""
    per_dir: dict[str, int] = {}
    uses: dict[str, int] = {}
    for rel in rels:
        d = rel.rsplit("/", 1)[0] if "/" in rel else ""
        per_dir[d] = per_dir.get(d, 0) + 1
        text = (content / rel).read_text("utf-8")
        m = re.search(r"^suchworte = \[(.*)\]$", text, flags=re.M)
        for k in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)) if m else []:
            uses[k] = uses.get(k, 0) + 1
    sections = sum(1 for _ in content.rglob("_index.md")) - 1
    median = statistics.median(uses.values()) if uses else 0
    return (f"{sections} sections (largest: {max(per_dir.values(), default=0)} pages), "
            f"{len(uses)} keywords (median {median:.0f} pages each)")


# --------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """`wegweiser serve` with its output read line by line in a thread."""

    def __init__(self, binary: Path, root: Path, port: int):
        self.port = port
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.all: list[str] = []
        env = {"PATH": os.environ.get("PATH", ""), "NO_COLOR": "1"}
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--root", str(root), "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.all.append(line)
            self.lines.put((time.perf_counter(), line))

    def next_line(self, timeout: float) -> str | None:
        try:
            return self.lines.get(timeout=timeout)[1]
        except queue.Empty:
            return None

    def drain(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.lines.get_nowait()[1])
            except queue.Empty:
                return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Client:
    """GET over one persistent HTTP/1.1 connection (reconnects if the server closes it), or
    with `fresh`, over a new connection each time (`Connection: close`)."""

    def __init__(self, port: int, fresh: bool = False):
        self.port = port
        self.fresh = fresh
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path: str) -> tuple[int, str]:
        if self.fresh:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("GET", path, headers={"Connection": "close"})
                r = conn.getresponse()
                return r.status, r.read().decode("utf-8", "replace")
            finally:
                conn.close()
        for attempt in range(2):
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read().decode("utf-8", "replace")
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------
# Edits
# --------------------------------------------------------------------------------------------


@dataclass
class Edit:
    conn: str  # "persistent" or "fresh"
    n: int
    kind: str  # "body" or "title"
    rel: str
    ms: float  # write start → marker served everywhere
    per_url: dict[str, float]
    printed: str


def url_of(rel: str) -> str:
    """content-relative "a/b/page.md" → "/a/b/page/" (gen_corpus file names are URL slugs)."""
    return "/" + rel[: -len(".md")] + "/"


def split_front_matter(text: str) -> tuple[str, str]:
    assert text.startswith("+++\n"), "front matter expected"
    end = text.index("\n+++\n", 4) + len("\n+++\n")
    return text[:end], text[end:]


def keyword_url(html: str, port: int) -> str | None:
    base = f"http://127.0.0.1:{port}"
    for href in re.findall(r'href="([^"]+)"', html):
        m = re.fullmatch(re.escape(base) + r"(/suchworte/[^/]+/)", href)
        if m:
            return m.group(1)
    return None


def wait_for(client: Client, path: str, marker: str, t0: float, limit_s: float) -> float:
    """Polls `path` until its body contains `marker`; returns ms since t0."""
    while True:
        status, body = client.get(path)
        now = time.perf_counter()
        if status == 200 and marker in body:
            return (now - t0) * 1000
        if now - t0 > limit_s:
            raise TimeoutError(f"{path} did not show {marker!r} within {limit_s} s "
                               f"(last status {status})")


def printed_for(serve: Serve, rel: str, wait_s: float = 2.0) -> str:
    """What serve printed for this edit: the `updated content/…` or `built …` line."""
    want = f"updated content/{rel}:"
    end = time.perf_counter() + wait_s
    seen = []
    while time.perf_counter() < end:
        line = serve.next_line(timeout=max(0.0, end - time.perf_counter()))
        if line is None:
            break
        seen.append(line)
        if line.startswith(want) or line.startswith("built ") or "rebuild failed" in line:
            return line
    return " / ".join(seen) or "(nothing)"


def measure(serve: Serve, client: Client, root: Path, picked: list[str], seed: int,
            limit_s: float) -> list[Edit]:
    rng = random.Random(seed)
    edits = len(picked)
    conn = "fresh" if client.fresh else "persistent"
    results = []
    for i, rel in enumerate(picked):
        kind = "title" if i % 5 == 4 else "body"
        path = root / "content" / rel
        original = path.read_text("utf-8")
        fm, body = split_front_matter(original)
        page = url_of(rel)
        status, html = client.get(page)
        if status != 200:
            raise RuntimeError(f"{page}: status {status} before the edit")
        marker = f"Messmarke{i}x{rng.randrange(10**9):09d}"
        urls = [page]
        if kind == "title":
            section = page.rsplit("/", 2)[0] + "/"
            status, listing = client.get(section)
            if status != 200 or page not in listing.replace(f"http://127.0.0.1:{serve.port}", ""):
                raise RuntimeError(f"{section} does not list {page}")
            kw = keyword_url(html, serve.port)
            if kw is None:
                raise RuntimeError(f"{page} links to no keyword page")
            urls += [section, kw]
            fm = re.sub(r'^title = "(.*)"$', lambda m: f'title = "{m.group(1)} {marker}"', fm,
                        count=1, flags=re.M)
            assert marker in fm, f"no title line in {rel}"
        text = fm + f"\n{marker} steht jetzt am Anfang.\n" + body
        serve.drain()
        t0 = time.perf_counter()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        per_url = {}
        for u in urls:
            per_url[u] = wait_for(client, u, marker, t0, limit_s)
        ms = max(per_url.values())
        printed = printed_for(serve, rel)
        results.append(Edit(conn, i + 1, kind, rel, ms, per_url, printed))
        log(f"{conn:10} edit {i + 1:2}/{edits} {kind:5} {ms:8.1f} ms  {printed}")
        time.sleep(0.2)  # let the watcher settle before the next edit
    return results


def wait_until_watching(serve: Serve, client: Client, root: Path, rel: str,
                        limit_s: float) -> None:
    """serve starts watching just after the first build: save a page unchanged until the
    server notices, so the first measured edit does not fall into that gap."""
    path = root / "content" / rel
    text = path.read_text("utf-8")
    _, state = client.get("/__wegweiser/poll?v=0")
    version = json.loads(state)["version"]
    end = time.perf_counter() + limit_s
    probe = Client(serve.port)
    probe.conn.timeout = 1.0
    while time.perf_counter() < end:
        path.write_text(text, "utf-8")
        try:
            _, state = probe.get(f"/__wegweiser/poll?v={version}")
            if json.loads(state)["version"] != version:
                return
        except (OSError, http.client.HTTPException):
            probe = Client(serve.port)
            probe.conn.timeout = 1.0
    raise TimeoutError("serve did not notice a saved file")


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


def report(results: list[Edit], stats: dict) -> str:
    out = [f"## wegweiser serve: edit → served latency, {stats['pages']} pages, "
           f"shape {stats['shape']}", ""]
    out.append(f"Corpus: {stats['corpus']}.")
    out.append("")
    out.append(f"Initial build: {stats['initial']} (serve ready {stats['ready_s']:.1f} s after "
               f"start). {stats['machine']}. Clock: write start → an HTTP GET, polled in a "
               f"tight loop, returns the marker (persistent: one kept-alive connection; fresh: "
               f"a new connection per GET). Goal: < {GOAL_MS:.0f} ms.")
    out.append("")
    out.append("| connection | edit | n | median ms | p90 ms | max ms | < 50 ms "
               "| serve's own time (median) |")
    out.append("|------------|------|--:|----------:|-------:|-------:|--------:"
               "|--------------------------:|")
    for conn, kind in ((c, k) for c in ("persistent", "fresh") for k in ("body", "title")):
        label = {"body": "body (page)", "title": "title (page + section + keyword page)"}[kind]
        rs = [r for r in results if r.kind == kind and r.conn == conn]
        if not rs:
            continue
        ms = [r.ms for r in rs]
        own = [float(m.group(1)) for r in rs
               if (m := re.search(r" in ([0-9.]+) ms$", r.printed))]
        own_s = f"{statistics.median(own):.1f} ms" if own else "-"
        ok = sum(1 for v in ms if v < GOAL_MS)
        out.append(f"| {conn} | {label} | {len(rs)} | {statistics.median(ms):.1f} | {pct(ms, 90):.1f} | "
                   f"{max(ms):.1f} | {ok}/{len(rs)} | {own_s} |")
    out.append("")
    out.append("| connection | # | edit | page | ms | per URL (ms) | serve printed |")
    out.append("|------------|--:|------|------|---:|--------------|---------------|")
    for r in results:
        per = ", ".join(f"{u}: {v:.1f}" for u, v in r.per_url.items()) if r.kind == "title" \
            else f"{r.per_url[next(iter(r.per_url))]:.1f}"
        out.append(f"| {r.conn} | {r.n} | {r.kind} | `{r.rel}` | {r.ms:.1f} | {per} | `{r.printed}` |")
    out.append("")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--edits", type=int, default=20, help="edits per pass")
    ap.add_argument("--conn", choices=["persistent", "fresh", "both"], default="both",
                    help="how to poll: one kept-alive connection, a new one per GET, or both "
                         "(two passes)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--shape", choices=["default", "sections500"], default="default",
                    help="corpus shape (bench/gen_corpus.py --shape): sections500 has 500-page "
                         "sections and N/20 keywords on ~90 pages each")
    ap.add_argument("--work", type=Path, default=Path("/dev/shm/wegweiser-serve-latency"))
    ap.add_argument("--binary", type=Path, default=None,
                    help="wegweiser binary (default: target/release/wegweiser, built first)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse WORK/corpus if it is there (its pages may carry old markers)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--wait-minutes", type=int, default=15,
                    help="how long to wait for bench/gen_corpus.py to appear")
    ap.add_argument("--limit", type=float, default=30.0,
                    help="seconds one edit may take before the run fails")
    a = ap.parse_args()
    passes = ["persistent", "fresh"] if a.conn == "both" else [a.conn]
    if a.edits < 1 or a.pages < a.edits * len(passes):
        ap.error("need 1 <= --edits and enough pages for every pass")
    if a.binary is None:
        a.binary = REPO / "target" / "release" / "wegweiser"
        log("cargo build --release")
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=REPO, check=True)
    if not a.binary.is_file():
        ap.error(f"no binary {a.binary}")

    a.work.mkdir(parents=True, exist_ok=True)
    root = a.work / "corpus" / "wegweiser"
    shape_file = a.work / "corpus" / "SHAPE"
    same_shape = shape_file.is_file() and shape_file.read_text("utf-8") == a.shape
    if not (a.reuse and same_shape and (root / "config.toml").is_file()):
        root = make_corpus(a.work, a.pages, a.seed, a.wait_minutes, a.shape)
    content = root / "content"
    rels = sorted(str(p.relative_to(content)).replace(os.sep, "/")
                  for p in content.rglob("*.md")
                  if p.name != "_index.md" and p.parent.name != "suchworte")
    corpus = corpus_facts(content, rels)
    log(f"{len(rels)} pages in {root}: {corpus}")

    port = free_port()
    started = time.perf_counter()
    serve = Serve(a.binary, root, port)
    try:
        initial = None
        while True:
            line = serve.next_line(timeout=600)
            if line is None or serve.proc.poll() is not None and serve.lines.empty():
                raise RuntimeError("serve ended or hung:\n" + "\n".join(serve.all))
            if line.startswith("built "):
                initial = line
            if line.startswith("serving on "):
                break
        ready_s = time.perf_counter() - started
        log(f"{initial}; ready after {ready_s:.1f} s")
        client = Client(port)
        wait_until_watching(serve, client, root, rels[0], 30)
        time.sleep(0.5)
        picked = random.Random(a.seed).sample(rels, a.edits * len(passes))
        results = []
        for k, conn in enumerate(passes):
            results += measure(serve, Client(port, fresh=conn == "fresh"), root,
                               picked[k * a.edits:(k + 1) * a.edits], a.seed + k, a.limit)
    finally:
        serve.stop()

    load = os.getloadavg()
    stats = {
        "pages": len(rels),
        "shape": a.shape,
        "corpus": corpus,
        "initial": f"`{initial}`",
        "ready_s": ready_s,
        "machine": f"{os.cpu_count()} CPUs, load average {load[0]:.1f} during the run",
    }
    text = report(results, stats)
    print(text)
    (a.work / "report.md").write_text(text, "utf-8")
    if not a.keep:
        shutil.rmtree(a.work / "corpus", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
