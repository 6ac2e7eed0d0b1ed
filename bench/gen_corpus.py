#!/usr/bin/env python3
"""Generates a synthetic German benchmark corpus for wegweiser and Hugo.

    python3 bench/gen_corpus.py --pages 10000 --seed 42 --out /dev/shm/corpus
    python3 bench/gen_corpus.py --pages 10000 --shape sections500 --out /dev/shm/corpus500

writes

    OUT/wegweiser/   config.toml, themes/default (symlink or copy), content/
    OUT/hugo/        hugo.toml, layouts/, static/style.css, content/

Both sites have the same pages, sections, front matter and text; only the internal links
differ: wegweiser gets `@/section/page.md` (checked by the engine), Hugo gets plain absolute
URL paths `/section/page/` (no lookup at all, the cheapest form for Hugo) or, with
`--hugo-links relref`, `{{< relref "section/page.md" >}}` shortcodes (checked, like wegweiser).

Shapes (`--shape`):

    default      N/100 sections (up to 12 top-level, the rest nested two or three deep),
                 3-6 Suchworte a page from a pool of N/20, mildly skewed (weight 1/sqrt(rank))
    sections500  N/500 top-level sections of 500 pages each (10,000 pages: 20 sections),
                 3-6 Suchworte a page from a pool of N/20 used evenly (10,000 pages: 500
                 keywords on ~90 pages each): big listings and big keyword pages

Pages have ~500 words in both. Python 3.11 standard library only. The output depends only on
--pages, --seed and --shape (the default shape's files are those of the script before
`--shape` existed).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import os
import random
import shutil
import statistics
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

WEGWEISER_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_THEME = WEGWEISER_ROOT / "themes" / "default"

# --------------------------------------------------------------------------------------------
# Word lists
# --------------------------------------------------------------------------------------------

# First parts of compounds (with their linking element).
PREFIXES = [
    "Arbeitsmarkt", "Beschäftigungs", "Qualifizierungs", "Eingliederungs", "Sozialhilfe",
    "Jugend", "Langzeitarbeitslosen", "Weiterbildungs", "Existenzgründungs", "Gleichstellungs",
    "Förder", "Übergangs", "Ausbildungs", "Kommunal", "Landes", "Bundes", "Netzwerk", "Straßen",
    "Grundsicherungs", "Geschäfts", "Maßnahmen", "Zuständigkeits", "Verwaltungs", "Beratungs",
    "Träger", "Zuwendungs", "Haushalts", "Bürger", "Familien", "Gesundheits", "Schul", "Fach",
    "Handwerks", "Wirtschafts", "Städtebau", "Mobilitäts", "Wohnungs", "Vermittlungs",
    "Integrations", "Regional", "Struktur", "Modell", "Innovations", "Betreuungs", "Pflege",
    "Umwelt", "Energie", "Nachbarschafts", "Quartiers", "Stadtteil", "Gemeinde", "Kreis",
    "Sprach", "Bildungs", "Berufs", "Fortbildungs", "Kinder", "Senioren", "Ehrenamts",
    "Migrations", "Teilhabe", "Inklusions", "Arbeitsschutz", "Lohnkosten", "Erwerbs",
    "Verbund", "Koordinierungs", "Evaluations", "Kooperations", "Steuerungs", "Größen",
    "Grünflächen", "Büro", "Zukunfts", "Rückkehr", "Übergangsgeld", "Hilfe", "Begleit",
]

# Heads: nominative, gender, genitive singular, plural.
HEADS = [
    ("Förderung", "f", "Förderung", "Förderungen"),
    ("Stelle", "f", "Stelle", "Stellen"),
    ("Verordnung", "f", "Verordnung", "Verordnungen"),
    ("Maßnahme", "f", "Maßnahme", "Maßnahmen"),
    ("Vereinbarung", "f", "Vereinbarung", "Vereinbarungen"),
    ("Partnerschaft", "f", "Partnerschaft", "Partnerschaften"),
    ("Beratung", "f", "Beratung", "Beratungen"),
    ("Richtlinie", "f", "Richtlinie", "Richtlinien"),
    ("Strategie", "f", "Strategie", "Strategien"),
    ("Planung", "f", "Planung", "Planungen"),
    ("Prüfung", "f", "Prüfung", "Prüfungen"),
    ("Offensive", "f", "Offensive", "Offensiven"),
    ("Werkstatt", "f", "Werkstatt", "Werkstätten"),
    ("Agentur", "f", "Agentur", "Agenturen"),
    ("Konferenz", "f", "Konferenz", "Konferenzen"),
    ("Träger", "m", "Trägers", "Träger"),
    ("Ausschuss", "m", "Ausschusses", "Ausschüsse"),
    ("Bericht", "m", "Berichtes", "Berichte"),
    ("Zuschuss", "m", "Zuschusses", "Zuschüsse"),
    ("Plan", "m", "Plans", "Pläne"),
    ("Verbund", "m", "Verbundes", "Verbünde"),
    ("Beirat", "m", "Beirates", "Beiräte"),
    ("Fonds", "m", "Fonds", "Fonds"),
    ("Vertrag", "m", "Vertrages", "Verträge"),
    ("Gesetz", "n", "Gesetzes", "Gesetze"),
    ("Verfahren", "n", "Verfahrens", "Verfahren"),
    ("Programm", "n", "Programms", "Programme"),
    ("Projekt", "n", "Projektes", "Projekte"),
    ("Netzwerk", "n", "Netzwerkes", "Netzwerke"),
    ("Konzept", "n", "Konzeptes", "Konzepte"),
    ("Angebot", "n", "Angebotes", "Angebote"),
    ("Budget", "n", "Budgets", "Budgets"),
    ("Büro", "n", "Büros", "Büros"),
    ("Gutachten", "n", "Gutachtens", "Gutachten"),
    ("Zentrum", "n", "Zentrums", "Zentren"),
]

# Plain nouns (same shape as HEADS).
NOUNS = [
    ("Kommune", "f", "Kommune", "Kommunen"),
    ("Arbeitsamt", "n", "Arbeitsamtes", "Arbeitsämter"),
    ("Sozialamt", "n", "Sozialamtes", "Sozialämter"),
    ("Landkreis", "m", "Landkreises", "Landkreise"),
    ("Stadt", "f", "Stadt", "Städte"),
    ("Arbeitgeber", "m", "Arbeitgebers", "Arbeitgeber"),
    ("Initiative", "f", "Initiative", "Initiativen"),
    ("Qualifizierung", "f", "Qualifizierung", "Qualifizierungen"),
    ("Einrichtung", "f", "Einrichtung", "Einrichtungen"),
    ("Behörde", "f", "Behörde", "Behörden"),
    ("Kammer", "f", "Kammer", "Kammern"),
    ("Gewerkschaft", "f", "Gewerkschaft", "Gewerkschaften"),
    ("Betrieb", "m", "Betriebes", "Betriebe"),
    ("Verein", "m", "Vereins", "Vereine"),
    ("Zuschnitt", "m", "Zuschnitts", "Zuschnitte"),
    ("Ansatz", "m", "Ansatzes", "Ansätze"),
    ("Haushalt", "m", "Haushaltes", "Haushalte"),
    ("Bezirk", "m", "Bezirkes", "Bezirke"),
    ("Instrument", "n", "Instrumentes", "Instrumente"),
    ("Ergebnis", "n", "Ergebnisses", "Ergebnisse"),
    ("Ministerium", "n", "Ministeriums", "Ministerien"),
    ("Jobcenter", "n", "Jobcenters", "Jobcenter"),
    ("Quartier", "n", "Quartiers", "Quartiere"),
    ("Verhältnis", "n", "Verhältnisses", "Verhältnisse"),
    ("Gebäude", "n", "Gebäudes", "Gebäude"),
]

ADJECTIVES = [
    "regional", "kommunal", "öffentlich", "gemeinsam", "nachhaltig", "überregional",
    "zusätzlich", "gesetzlich", "berufsbegleitend", "niedrigschwellig", "ehrenamtlich",
    "städtisch", "ländlich", "innovativ", "förderfähig", "zuständig", "verbindlich",
    "außerordentlich", "mehrjährig", "grenzüberschreitend", "europäisch", "zielgruppengerecht",
    "sozialversicherungspflichtig", "wirtschaftsnah", "erfolgreich", "bisherig", "künftig",
    "flächendeckend", "präventiv", "trägerübergreifend", "passgenau", "bedarfsgerecht",
    "ressortübergreifend", "arbeitsmarktpolitisch", "wohnortnah", "gemeinnützig", "übergreifend",
    "großräumig", "dezentral", "einheitlich", "fachlich", "rechtzeitig", "schlüssig",
]

# 3rd person singular, 3rd person plural, infinitive, past participle.
VERBS = [
    ("fördert", "fördern", "fördern", "gefördert"),
    ("unterstützt", "unterstützen", "unterstützen", "unterstützt"),
    ("verbessert", "verbessern", "verbessern", "verbessert"),
    ("koordiniert", "koordinieren", "koordinieren", "koordiniert"),
    ("stärkt", "stärken", "stärken", "gestärkt"),
    ("begleitet", "begleiten", "begleiten", "begleitet"),
    ("bündelt", "bündeln", "bündeln", "gebündelt"),
    ("schafft", "schaffen", "schaffen", "geschaffen"),
    ("ermöglicht", "ermöglichen", "ermöglichen", "ermöglicht"),
    ("überprüft", "überprüfen", "überprüfen", "überprüft"),
    ("erweitert", "erweitern", "erweitern", "erweitert"),
    ("finanziert", "finanzieren", "finanzieren", "finanziert"),
    ("bewertet", "bewerten", "bewerten", "bewertet"),
    ("entwickelt", "entwickeln", "entwickeln", "entwickelt"),
    ("sichert", "sichern", "sichern", "gesichert"),
    ("vermittelt", "vermitteln", "vermitteln", "vermittelt"),
    ("erschließt", "erschließen", "erschließen", "erschlossen"),
    ("beschließt", "beschließen", "beschließen", "beschlossen"),
    ("gewährleistet", "gewährleisten", "gewährleisten", "gewährleistet"),
    ("verknüpft", "verknüpfen", "verknüpfen", "verknüpft"),
    ("übernimmt", "übernehmen", "übernehmen", "übernommen"),
    ("berücksichtigt", "berücksichtigen", "berücksichtigen", "berücksichtigt"),
]

CITIES = [
    "Rottweil", "Görlitz", "Fürth", "Lübeck", "Mönchengladbach", "Würzburg", "Gießen",
    "Tübingen", "Saarbrücken", "Osnabrück", "Düsseldorf", "Köln", "Zwickau", "Weißenfels",
    "Passau", "Bayreuth", "Lüneburg", "Göttingen", "Schwäbisch Hall", "Bad Kreuznach",
    "Fürstenwalde", "Münster", "Jülich", "Lörrach", "Nürnberg", "Völklingen", "Großenhain",
    "Bückeburg", "Sömmerda", "Düren", "Überlingen", "Wolfenbüttel", "Neuruppin", "Straubing",
]

ADVERBS = [
    "insbesondere", "zunehmend", "nachweislich", "deutlich", "erstmals", "weiterhin",
    "grundsätzlich", "außerdem", "schrittweise", "frühzeitig", "ausdrücklich", "vorrangig",
    "überwiegend", "größtenteils", "möglichst", "zügig", "gleichermaßen",
]

PEOPLE = [
    "Langzeitarbeitslose", "Jugendliche", "Alleinerziehende", "Berufsrückkehrerinnen",
    "Schwerbehinderte", "Geringqualifizierte", "Ältere Beschäftigte", "Zugewanderte",
    "Existenzgründerinnen und Existenzgründer", "Auszubildende",
]

HEADING_FIXED = [
    "Ausgangslage", "Ziele und Zielgruppen", "Umsetzung", "Finanzierung", "Ergebnisse",
    "Ausblick", "Beteiligte Akteure", "Zeitplan", "Übersicht & Einordnung", "Erfahrungen",
    "Rechtsgrundlagen", "Größenordnung", "Qualitätssicherung", "Öffentlichkeitsarbeit",
    "Nächste Schritte", "Hintergrund", "Wirkungen", "Schwierigkeiten", "Empfehlungen",
]

ARTICLES = {
    # case: (m, f, n, plural)
    "nom": ("der", "die", "das", "die"),
    "acc": ("den", "die", "das", "die"),
    "dat": ("dem", "der", "dem", "den"),
    "gen": ("des", "der", "des", "der"),
}
GENDER_INDEX = {"m": 0, "f": 1, "n": 2}


def adj_ending(case: str, gender: str, plural: bool) -> str:
    """Weak adjective ending after a definite article."""
    if plural:
        return "en"
    if case == "nom":
        return "e"
    if case == "acc":
        return "en" if gender == "m" else "e"
    return "en"  # dat, gen


def strong_nom(gender: str) -> str:
    """Strong adjective ending in the nominative singular (no article): "Regionales Netzwerk"."""
    return {"m": "er", "f": "e", "n": "es"}[gender]


def mid_sentence(people: str) -> str:
    """A PEOPLE entry inside a sentence: only adjectives lose their capital."""
    return people[0].lower() + people[1:] if people.startswith("Ältere") else people


def dative_plural(pl: str) -> str:
    return pl if pl.endswith(("n", "s")) else pl + "n"


# --------------------------------------------------------------------------------------------
# Slugs the German way (matches wegweiser's src/slug.rs for the characters used here)
# --------------------------------------------------------------------------------------------

_TRANSLIT = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ß": "ss",
             "&": " und "}


def slugify(s: str) -> str:
    s = unicodedata.normalize("NFC", s)
    out = []
    for ch in s:
        ch = _TRANSLIT.get(ch, ch)
        out.append(ch.lower())
    text = "".join(out)
    parts, cur = [], []
    for ch in text:
        if ch.isascii() and (ch.isalnum()):
            cur.append(ch)
        else:
            if cur:
                parts.append("".join(cur))
                cur = []
    if cur:
        parts.append("".join(cur))
    return "-".join(parts)


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


class Text:
    """Sentence generator over one Random instance."""

    def __init__(self, rng: random.Random):
        self.r = rng

    def compound(self) -> tuple[str, str, str, str]:
        r = self.r
        head = r.choice(HEADS)
        n = r.random()
        if n < 0.55:
            parts = [r.choice(PREFIXES)]
        elif n < 0.9:
            parts = r.sample(PREFIXES, 2)
        else:
            parts = r.sample(PREFIXES, 3)
        stem = parts[0] + "".join(p.lower() for p in parts[1:])
        low = lambda w: stem + w.lower()  # noqa: E731
        return (low(head[0]), head[1], low(head[2]), low(head[3]))

    def noun(self) -> tuple[str, str, str, str]:
        return self.compound() if self.r.random() < 0.6 else self.r.choice(NOUNS)

    def np(self, case: str, plural: bool | None = None, adj: bool | None = None) -> str:
        r = self.r
        nom, gender, gen, pl = self.noun()
        if plural is None:
            plural = r.random() < 0.3
        if adj is None:
            adj = r.random() < 0.5
        art = ARTICLES[case][3 if plural else GENDER_INDEX[gender]]
        if plural:
            word = dative_plural(pl) if case == "dat" else pl
        else:
            word = gen if case == "gen" else nom
        a = ""
        if adj:
            a = r.choice(ADJECTIVES) + adj_ending(case, gender, plural) + " "
        return f"{art} {a}{word}"

    def verb(self):
        return self.r.choice(VERBS)

    def sentence(self) -> str:
        r = self.r
        k = r.randrange(10)
        v = self.verb()
        if k == 0:
            s = f"{cap(self.np('nom', plural=False))} {v[0]} {self.np('acc')}"
        elif k == 1:
            s = (f"Im Rahmen {self.np('gen', plural=False)} werden {r.choice(ADVERBS)} "
                 f"{self.np('nom', plural=True, adj=False).split(' ', 1)[1]} {v[3]}")
        elif k == 2:
            s = (f"Seit {r.randrange(1995, 2024)} {v[0]} {self.np('nom', plural=False)} "
                 f"in {r.choice(CITIES)} {self.np('acc')}")
        elif k == 3:
            s = (f"Besonders {r.choice(['wichtig', 'hilfreich', 'umstritten', 'wirksam'])} "
                 f"ist {self.np('nom', plural=False)}, weil {self.np('nom', plural=False)} "
                 f"{self.np('acc')} {r.choice(ADVERBS)} {v[0]}")
        elif k == 4:
            w = self.verb()
            s = (f"Ziel ist es, {self.np('acc')} zu {v[2]} und {self.np('acc')} "
                 f"{r.choice(ADVERBS)} zu {w[2]}")
        elif k == 5:
            s = (f"{cap(self.np('nom', plural=True))} {v[1]} gemeinsam mit "
                 f"{self.np('dat', plural=True)} {self.np('acc')}")
        elif k == 6:
            amount = f"{r.randrange(10, 990)}.{r.randrange(0, 1000):03d},00"
            s = (f"Für {self.np('acc', plural=False)} stehen {amount} "
                 f"{r.choice(['Euro', 'DM'])} zur Verfügung")
        elif k == 7:
            s = (f"{r.choice(PEOPLE)} profitieren {r.choice(ADVERBS)} von "
                 f"{self.np('dat')} und {self.np('dat')}")
        elif k == 8:
            s = (f"Nach Angaben {self.np('gen', plural=False)} {v[0]} "
                 f"{self.np('nom', plural=False)} {self.np('acc')}")
        else:
            s = (f"Dabei {v[0]} {self.np('nom', plural=False)} "
                 f"{r.choice(ADVERBS)} {self.np('acc')} für {mid_sentence(r.choice(PEOPLE))}")
        return s + "."

    def paragraph(self, lo=3, hi=6) -> str:
        return " ".join(self.sentence() for _ in range(self.r.randint(lo, hi)))

    def heading(self) -> str:
        r = self.r
        k = r.randrange(4)
        if k == 0:
            return r.choice(HEADING_FIXED)
        nom, gender, gen, pl = self.noun()
        if k == 1:
            return f"{cap(r.choice(ADJECTIVES))}{strong_nom(gender)} {nom}"
        if k == 2:
            return f"{nom} und {self.noun()[0]}"
        return f"{r.choice(['Ergebnisse', 'Aufgaben', 'Grenzen', 'Kosten'])} {self.np('gen', adj=False)}"


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def words(s: str) -> int:
    return len(s.split())


# --------------------------------------------------------------------------------------------
# Keywords: N/20 distinct keywords, no two alike (edit distance <= 2) or with the same slug
# --------------------------------------------------------------------------------------------


def _deletions(s: str, k: int) -> set[str]:
    out = {s}
    frontier = {s}
    for _ in range(k):
        nxt = set()
        for w in frontier:
            for i in range(len(w)):
                nxt.add(w[:i] + w[i + 1:])
        out |= nxt
        frontier = nxt
    return out


def keyword_pool(n: int, rng: random.Random) -> list[str]:
    """Two keywords within edit distance 2 share a string in their 2-deletion neighbourhoods;
    rejecting every such candidate keeps wegweiser's look-alike warning silent."""
    text = Text(rng)
    seen_del: set[str] = set()
    slugs: set[str] = set()
    pool: list[str] = []
    fixed = ["Arbeitslosenhilfe", "Sozialhilfe", "Clearingstelle", "Existenzgründung", "EQUAL",
             "Netzwerke", "Übergangsmanagement", "Straßensozialarbeit", "Ältere Arbeitnehmer",
             "Ökologische Modernisierung", "Öffentlich geförderte Beschäftigung"]
    candidates = iter(fixed)
    tries = 0
    while len(pool) < n:
        tries += 1
        if tries > 200 * n + 1000:
            sys.exit(f"gen_corpus: cannot find {n} distinct keywords")
        cand = next(candidates, None)
        if cand is None:
            k = rng.random()
            if k < 0.55:
                cand = text.compound()[0]
            elif k < 0.8:
                nom, gender, _, _ = text.compound()
                cand = f"{cap(rng.choice(ADJECTIVES))}{strong_nom(gender)} {nom}"
            elif k < 0.9:
                cand = f"{text.compound()[0]} {rng.choice(CITIES)}"
            else:
                cand = f"{rng.choice(PEOPLE)} in {rng.choice(CITIES)}"
        folded = cand.lower()
        slug = slugify(cand)
        if slug in slugs or not slug:
            continue
        dels = _deletions(folded, 2)
        if len(folded) > 6 and not dels.isdisjoint(seen_del):
            continue
        if len(folded) <= 6 and folded in seen_del:
            continue
        seen_del |= dels
        slugs.add(slug)
        pool.append(cand)
    return pool


# --------------------------------------------------------------------------------------------
# Site model
# --------------------------------------------------------------------------------------------


@dataclass
class Section:
    idx: int
    title: str
    rel: str  # "a/b" (folder below content/)
    depth: int
    weight: int
    description: str
    parent: int | None
    pages: list[int] = field(default_factory=list)


@dataclass
class Page:
    idx: int
    title: str
    section: int
    rel: str  # "a/b/page.md"
    weight: int
    date: str
    description: str
    keywords: list[str]
    anchor_heading: str
    anchor_id: str
    toml_block: bool


def toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


SHAPES = ("default", "sections500")
# Pages per section for each shape.
SECTION_SIZE = {"default": 100, "sections500": 500}


def build_model(n_pages: int, seed: int, shape: str = "default"):
    rng = random.Random(f"{seed}:model")
    text = Text(rng)
    n_sections = max(1, round(n_pages / SECTION_SIZE[shape]))
    n_top = min(n_sections, 12, max(1, math.ceil(n_sections / 2)))
    if shape == "sections500":
        n_top = n_sections  # all top-level, so each holds its 500 pages directly
    sections: list[Section] = []
    for i in range(n_sections):
        if i < n_top:
            parent, depth = None, 1
        else:
            # Second level under a top section; every fourth one level deeper.
            second = [s for s in sections if s.depth == 2]
            if second and i % 4 == 0:
                p = rng.choice(second)
                parent, depth = p.idx, 3
            else:
                parent, depth = rng.randrange(n_top), 2
        title = text.compound()[0] if rng.random() < 0.7 else text.heading()
        slug = f"{slugify(title)}-{i + 1}"
        rel = slug if parent is None else f"{sections[parent].rel}/{slug}"
        sections.append(Section(i, title, rel, depth, rng.randint(1, 50),
                                text.sentence(), parent))

    n_keywords = max(5, n_pages // 20)
    pool = keyword_pool(n_keywords, random.Random(f"{seed}:keywords"))
    # Mildly skewed keyword use: weight 1/sqrt(rank); even use for sections500.
    if shape == "sections500":
        cum = list(itertools.accumulate(1.0 for _ in pool))
    else:
        cum = list(itertools.accumulate(1 / math.sqrt(r + 1) for r in range(len(pool))))

    pages: list[Page] = []
    for i in range(n_pages):
        pr = random.Random(f"{seed}:page:{i}")
        pt = Text(pr)
        sec = i % n_sections
        k = pr.random()
        if k < 0.4:
            title = f"{pt.compound()[0]} {pr.choice(CITIES)}"
        elif k < 0.7:
            nom, gender, _, _ = pt.compound()
            title = f"{cap(pr.choice(ADJECTIVES))}{strong_nom(gender)} {nom}"
        else:
            title = pt.heading()
        fname = f"{slugify(title)}-{i + 1}.md"
        kws: list[str] = []
        want = min(pr.randint(3, 6), len(pool))
        while len(kws) < want:
            r = bisect.bisect_left(cum, pr.random() * cum[-1])
            kw = pool[min(r, len(pool) - 1)]
            if kw not in kws:
                kws.append(kw)
        heading = pt.heading()
        date = f"{pr.randrange(1999, 2025)}-{pr.randint(1, 12):02d}-{pr.randint(1, 28):02d}"
        page = Page(i, title, sec, f"{sections[sec].rel}/{fname}",
                    len(sections[sec].pages) + 1, date, pt.sentence(), kws, heading,
                    slugify(heading), pr.random() < 0.15)
        sections[sec].pages.append(i)
        pages.append(page)
    return sections, pages, pool


# --------------------------------------------------------------------------------------------
# Page bodies
# --------------------------------------------------------------------------------------------

# Link placeholders, replaced per target: \x00L<page index>\x00 and \x00A<page index>\x00.


def body_for(page: Page, pages: list[Page], seed: int) -> str:
    r = random.Random(f"{seed}:body:{page.idx}")
    t = Text(r)
    target_words = r.randint(440, 560)
    out: list[str] = [t.paragraph(2, 4)]
    n = len(pages)
    others = [j for j in r.sample(range(n), min(n, 6)) if j != page.idx]
    link_targets = others[: r.randint(2, 4)]
    anchor_target = others[-1] if len(others) > len(link_targets) else (
        others[0] if others else page.idx)

    headings_used = {page.anchor_heading}
    blocks: list[str] = []
    # First h2 carries the explicit id other pages link to.
    blocks.append(f"## {page.anchor_heading} {{#{page.anchor_id}}}")
    blocks.append(t.paragraph())
    link_phrases = [
        "Weitere Informationen bietet die Seite {l}.",
        "Vergleichbare Ansätze beschreibt {l}.",
        "Zum Zusammenhang siehe auch {l}.",
        "Die Abstimmung mit {l} ist ausdrücklich vorgesehen.",
    ]
    pending_links = list(link_targets)

    def new_heading() -> str:
        for _ in range(20):
            h = t.heading()
            if h not in headings_used and slugify(h) != page.anchor_id:
                headings_used.add(h)
                return h
        h = f"{t.heading()} {len(headings_used)}"
        headings_used.add(h)
        return h

    section_no = 0
    table_done = list_done = code_done = anchor_done = False
    while True:
        so_far = words(" ".join(out + blocks))
        if so_far >= target_words and table_done and list_done and not pending_links \
                and anchor_done and (code_done or not page.toml_block):
            break
        section_no += 1
        level = "###" if section_no % 3 == 2 else "##"
        blocks.append(f"{level} {new_heading()}")
        para = t.paragraph()
        if pending_links:
            j = pending_links.pop()
            para += " " + r.choice(link_phrases).format(l=f"[{pages[j].title}](\x00L{j}\x00)")
        elif not anchor_done:
            j = anchor_target
            para += (f" Einzelheiten stehen im Abschnitt "
                     f"[„{pages[j].anchor_heading}“](\x00A{j}\x00).")
            anchor_done = True
        blocks.append(para)
        if not list_done:
            items = [f"- {cap(t.np('nom', adj=r.random() < 0.5))}" for _ in range(r.randint(3, 6))]
            blocks.append("Beteiligt sind unter anderem:\n\n" + "\n".join(items))
            list_done = True
        elif not table_done:
            rows = ["| Jahr | Fördermittel (€) | Teilnehmende | Vermittlungsquote |",
                    "|------|-----------------:|-------------:|------------------:|"]
            y = r.randrange(1998, 2020)
            for k in range(r.randint(3, 5)):
                rows.append(f"| {y + k} | {r.randrange(20, 900)}.{r.randrange(1000):03d} "
                            f"| {r.randrange(8, 400)} | {r.randrange(5, 80)},{r.randrange(10)} % |")
            blocks.append("\n".join(rows))
            table_done = True
        elif page.toml_block and not code_done:
            code = [
                "```toml",
                "[projekt]",
                f"titel = {toml_str(page.title)}",
                f"ort = {toml_str(r.choice(CITIES))}",
                f"beginn = {page.date}",
                f"foerderung_eur = {r.randrange(10_000, 2_000_000)}",
                f"bewilligt = {r.choice(['true', 'false'])}",
                "",
                "[projekt.traeger]",
                f"name = {toml_str(t.compound()[0])}",
                f"akteure = [{', '.join(toml_str(cap(r.choice(NOUNS)[3])) for _ in range(3))}]",
                "```",
            ]
            blocks.append("Die Eckdaten in maschinenlesbarer Form:\n\n" + "\n".join(code))
            code_done = True
        if section_no > 40:
            break
    return "\n\n".join(out + blocks) + "\n"


def section_body(sec: Section, seed: int) -> str:
    r = random.Random(f"{seed}:section:{sec.idx}")
    return Text(r).paragraph(2, 4) + "\n"


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def front_matter(title: str, description: str, weight: int, date: str | None,
                 keywords: list[str] | None) -> str:
    lines = ["+++", f"title = {toml_str(title)}", f"description = {toml_str(description)}"]
    if date:
        lines.append(f"date = {date}")
    lines.append(f"weight = {weight}")
    if keywords:
        lines.append("suchworte = [" + ", ".join(toml_str(k) for k in keywords) + "]")
    lines.append("+++")
    return "\n".join(lines) + "\n\n"


def url_path(rel_md: str) -> str:
    """content-relative "a/b/page.md" -> "/a/b/page/"."""
    return "/" + rel_md[: -len(".md")] + "/"


def fill_links(body: str, pages: list[Page], mode: str) -> str:
    parts = body.split("\x00")
    # Odd elements are placeholders.
    for i in range(1, len(parts), 2):
        kind, j = parts[i][0], int(parts[i][1:])
        p = pages[j]
        frag = f"#{p.anchor_id}" if kind == "A" else ""
        if mode == "wegweiser":
            parts[i] = f"@/{p.rel}{frag}"
        elif mode == "relref":
            parts[i] = f'{{{{< relref "/{p.rel}{frag}" >}}}}'
        else:
            parts[i] = url_path(p.rel) + frag
    return "".join(parts)


HUGO_LAYOUTS = {
    "baseof.html": """<!DOCTYPE html>
<html lang="de">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ block "title" . }}{{ site.Title }}{{ end }}</title>
  <meta name="description" content="{{ with .Description }}{{ . }}{{ else }}{{ site.Params.description }}{{ end }}">
  <link rel="canonical" href="{{ .Permalink }}">
  <link rel="stylesheet" href="{{ "style.css" | absURL }}">
</head>
<body id="seitenanfang">
  <a class="skip-link" href="#inhalt">Zum Inhalt springen</a>
  <header class="site-header">
    <div class="wrap site-header__bar">
      <a class="site-title" href="{{ site.Home.Permalink }}">{{ site.Title }}</a>
      {{- if .IsHome }}<p class="site-tagline">{{ site.Params.description }}</p>{{ end }}
    </div>
    <nav class="main-nav" aria-label="Hauptmenü">
      <div class="wrap">
        <ul>
          <li><a href="{{ site.Home.Permalink }}"{{ if .IsHome }} aria-current="page"{{ end }}>Startseite</a></li>
          {{- /* sectionPagesMenu = "main": computed once. (range site.Sections per page costs
                 O(pages) each in Hugo 0.168, i.e. O(n^2) for the site.) */}}
          {{- $cur := . }}
          {{- range site.Menus.main }}
          <li><a href="{{ .URL | absURL }}"{{ if $cur.IsMenuCurrent "main" . }} aria-current="page"{{ else if $cur.HasMenuCurrent "main" . }} aria-current="true"{{ end }}>{{ .Name }}</a></li>
          {{- end }}
          {{- with site.GetPage "/suchworte" }}
          <li><a href="{{ .Permalink }}"{{ if eq $cur . }} aria-current="page"{{ end }}>Suchworte</a></li>
          {{- end }}
        </ul>
      </div>
    </nav>
  </header>
  {{ block "breadcrumb" . }}{{ end }}
  <main id="inhalt" tabindex="-1">
    <div class="wrap">
      {{ block "main" . }}{{ end }}
    </div>
  </main>
  <footer class="site-footer">
    <div class="wrap">
      <p class="site-footer__text">Ein Angebot der herausgebenden Stelle.</p>
      <nav aria-label="Service und rechtliche Hinweise">
        <ul class="site-footer__links">
          <li><a href="{{ "suchworte/" | absURL }}">Suchworte</a></li>
          <li><a href="{{ "impressum/" | absURL }}">Impressum</a></li>
          <li><a href="{{ "datenschutz/" | absURL }}">Datenschutz</a></li>
          <li><a href="{{ "barrierefreiheit/" | absURL }}">Barrierefreiheit</a></li>
        </ul>
      </nav>
      <p class="site-footer__top"><a href="#seitenanfang">Nach oben</a></p>
    </div>
  </footer>
</body>
</html>
""",
    "_partials/breadcrumb.html": """<nav class="breadcrumb" aria-label="Sie sind hier">
  <div class="wrap">
    <ol>
      {{- range .Ancestors.Reverse }}
      <li><a href="{{ .Permalink }}">{{ if .IsHome }}Startseite{{ else }}{{ .Title }}{{ end }}</a></li>
      {{- end }}
      <li><span aria-current="page">{{ .Title }}</span></li>
    </ol>
  </div>
</nav>
""",
    "_partials/page_list.html": """<ul class="page-list">
  {{- range . }}
  <li class="page-list__item">
    <h3 class="page-list__title"><a href="{{ .Permalink }}">{{ .Title }}</a></h3>
    {{- if not .Date.IsZero }}
    <p class="meta"><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "02.01.2006" }}</time></p>
    {{- end }}
    {{- with .Description }}
    <p>{{ . }}</p>
    {{- else }}
    <p>{{ .Summary | plainify | truncate 260 }}</p>
    {{- end }}
  </li>
  {{- end }}
</ul>
""",
    "single.html": """{{ define "title" }}{{ .Title }} – {{ site.Title }}{{ end }}
{{ define "breadcrumb" }}{{ partial "breadcrumb.html" . }}{{ end }}
{{ define "main" }}
<article class="page">
  <header class="page-header">
    <h1>{{ .Title }}</h1>
    {{- with .Description }}
    <p class="lead">{{ . }}</p>
    {{- end }}
    {{- if not .Date.IsZero }}
    <p class="meta"><span>Veröffentlicht am <time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "02.01.2006" }}</time></span></p>
    {{- end }}
  </header>
  {{- if gt (len .Fragments.Identifiers) 1 }}
  <nav class="toc" aria-labelledby="ww-toc-title">
    <h2 id="ww-toc-title" class="toc__title">Inhaltsverzeichnis</h2>
    {{ .TableOfContents }}
  </nav>
  {{- end }}
  <div class="content">
    {{ .Content }}
  </div>
  {{- with .GetTerms "suchworte" }}
  <section class="page-keywords" aria-labelledby="ww-keywords-title">
    <h2 id="ww-keywords-title">Suchworte</h2>
    <ul class="chips">
      {{- range . }}
      <li><a class="chip" href="{{ .Permalink }}">{{ .Title }}</a></li>
      {{- end }}
    </ul>
  </section>
  {{- end }}
  {{- if or .PrevInSection .NextInSection }}
  <nav class="page-nav" aria-label="Weitere Seiten in diesem Bereich">
    <ul>
      {{- with .NextInSection }}
      <li class="page-nav__prev"><a href="{{ .Permalink }}" rel="prev"><span class="page-nav__dir">Vorherige Seite</span> <span class="page-nav__title">{{ .Title }}</span></a></li>
      {{- end }}
      {{- with .PrevInSection }}
      <li class="page-nav__next"><a href="{{ .Permalink }}" rel="next"><span class="page-nav__dir">Nächste Seite</span> <span class="page-nav__title">{{ .Title }}</span></a></li>
      {{- end }}
    </ul>
  </nav>
  {{- end }}
</article>
{{ end }}
""",
    "list.html": """{{ define "title" }}{{ if .IsHome }}{{ site.Title }}{{ else }}{{ .Title }} – {{ site.Title }}{{ end }}{{ end }}
{{ define "breadcrumb" }}{{ if not .IsHome }}{{ partial "breadcrumb.html" . }}{{ end }}{{ end }}
{{ define "main" }}
<article class="section">
  <header class="page-header">
    <h1>{{ .Title }}</h1>
    {{- with .Description }}
    <p class="lead">{{ . }}</p>
    {{- end }}
  </header>
  {{- with .Content }}
  <div class="content">
    {{ . }}
  </div>
  {{- end }}
  {{- with .Sections.ByWeight }}
  <section class="subsections" aria-labelledby="ww-subsections-title">
    <h2 id="ww-subsections-title">Themenbereiche</h2>
    {{ partial "page_list.html" . }}
  </section>
  {{- end }}
  {{- with .RegularPages.ByWeight }}
  <section class="section-pages" aria-labelledby="ww-pages-title">
    <h2 id="ww-pages-title">Seiten in diesem Bereich</h2>
    {{ partial "page_list.html" . }}
  </section>
  {{- end }}
  {{- if .IsHome }}
  <p class="more-link"><a href="{{ "suchworte/" | absURL }}">Alle Suchworte von A bis Z</a></p>
  {{- end }}
</article>
{{ end }}
""",
    "taxonomy.html": """{{ define "title" }}Suchworte – {{ site.Title }}{{ end }}
{{ define "breadcrumb" }}{{ partial "breadcrumb.html" . }}{{ end }}
{{ define "main" }}
<article class="keyword-index">
  <header class="page-header">
    <h1>Suchworte</h1>
    <p class="lead">Alle Suchworte dieses Angebots in alphabetischer Reihenfolge.</p>
    <p class="meta">{{ len .Data.Terms }} Suchworte</p>
  </header>
  {{- $groups := dict }}
  {{- $order := slice }}
  {{- range .Data.Terms.Alphabetical }}
    {{- $l := upper (substr .Page.Title 0 1) }}
    {{- $l = replace (replace (replace $l "Ä" "A") "Ö" "O") "Ü" "U" }}
    {{- if not (findRE "^[A-Z]$" $l) }}{{ $l = "#" }}{{ end }}
    {{- if not (isset $groups $l) }}{{ $order = $order | append $l }}{{ end }}
    {{- $groups = merge $groups (dict $l ((index $groups $l | default slice) | append .)) }}
  {{- end }}
  <nav class="az" aria-label="Suchworte nach Anfangsbuchstaben">
    <ul>
      {{- range $order }}
      <li><a href="#buchstabe-{{ . | urlize }}">{{ . }}</a></li>
      {{- end }}
    </ul>
  </nav>
  {{- range $order }}
  <section class="kw-group" aria-labelledby="buchstabe-{{ . | urlize }}">
    <h2 id="buchstabe-{{ . | urlize }}" class="kw-group__letter">{{ . }}</h2>
    <ul class="kw-list">
      {{- range index $groups . }}
      <li><a href="{{ .Page.Permalink }}">{{ .Page.Title }}</a> <span class="kw-list__count">({{ .Count }} Seiten)</span></li>
      {{- end }}
    </ul>
  </section>
  {{- end }}
</article>
{{ end }}
""",
    "term.html": """{{ define "title" }}{{ .Title }} – Suchworte – {{ site.Title }}{{ end }}
{{ define "breadcrumb" }}{{ partial "breadcrumb.html" . }}{{ end }}
{{ define "main" }}
<article class="keyword">
  <header class="page-header">
    <h1>{{ .Title }}</h1>
    <p class="meta">{{ len .Pages }} Seiten</p>
  </header>
  <section aria-labelledby="ww-kw-pages-title">
    <h2 id="ww-kw-pages-title">Seiten mit diesem Suchwort</h2>
    {{ partial "page_list.html" .Pages.ByTitle }}
  </section>
  <p class="more-link"><a href="{{ "suchworte/" | absURL }}">Zurück zum Suchwortverzeichnis</a></p>
</article>
{{ end }}
""",
    "404.html": """{{ define "title" }}Seite nicht gefunden – {{ site.Title }}{{ end }}
{{ define "main" }}
<article class="page">
  <h1>Seite nicht gefunden</h1>
  <p>Die angeforderte Seite gibt es nicht. <a href="{{ site.Home.Permalink }}">Zur Startseite</a></p>
</article>
{{ end }}
""",
}

SITE_TITLE = "Wegweiser-Benchmark: Beschäftigungsförderung in Städten und Gemeinden"
SITE_DESCRIPTION = ("Synthetischer Bestand an Seiten über Förderprogramme, Netzwerke und "
                    "Maßnahmen für Vergleichsmessungen.")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def generate(n_pages: int, seed: int, out: Path, hugo_links: str, copy_theme: bool,
             shape: str = "default") -> dict:
    sections, pages, pool = build_model(n_pages, seed, shape)
    ww = out / "wegweiser"
    hu = out / "hugo"
    for d in (ww, hu):
        if d.exists():
            shutil.rmtree(d)
    # --- configuration ---
    write(ww / "config.toml", "\n".join([
        f"title = {toml_str(SITE_TITLE)}",
        f"description = {toml_str(SITE_DESCRIPTION)}",
        'base_url = "http://127.0.0.1/"',
        'language = "de"',
        'theme = "default"',
        "# bench/run.sh flips this to true for the search-index measurement",
        "search = false",
        "",
        "[markdown]",
        "smart_punctuation = false",
        "highlight = true",
        "",
    ]))
    (ww / "themes").mkdir(parents=True)
    if copy_theme:
        shutil.copytree(DEFAULT_THEME, ww / "themes" / "default")
    else:
        os.symlink(DEFAULT_THEME, ww / "themes" / "default")

    write(hu / "hugo.toml", "\n".join([
        'baseURL = "http://127.0.0.1/"',
        'languageCode = "de"',
        "# top-level sections as the main menu (like wegweiser's site.menu)",
        'sectionPagesMenu = "main"',
        'defaultContentLanguage = "de"',
        f"title = {toml_str(SITE_TITLE)}",
        "# wegweiser writes sitemap.xml, robots.txt and one site-wide feed (30 entries):",
        "# Hugo does the same (no per-section/per-term feeds).",
        "enableRobotsTXT = true",
        "disableKinds = []",
        "",
        "[params]",
        f"description = {toml_str(SITE_DESCRIPTION)}",
        "",
        "[taxonomies]",
        'suchwort = "suchworte"',
        "",
        "[outputs]",
        'home = ["html", "rss"]',
        'section = ["html"]',
        'taxonomy = ["html"]',
        'term = ["html"]',
        'page = ["html"]',
        "",
        "[services.rss]",
        "limit = 30",
        "",
        "[markup.highlight]",
        "noClasses = false",
        "",
        "[markup.tableOfContents]",
        "startLevel = 2",
        "endLevel = 3",
        "",
    ]))
    for name, text in HUGO_LAYOUTS.items():
        write(hu / "layouts" / name, text)
    css = DEFAULT_THEME / "static" / "style.css"
    (hu / "static").mkdir(parents=True)
    shutil.copyfile(css, hu / "static" / "style.css")

    # --- content ---
    home_fm = front_matter(SITE_TITLE, SITE_DESCRIPTION, 1, None, None)
    home_body = Text(random.Random(f"{seed}:home")).paragraph(3, 5) + "\n"
    for root in (ww, hu):
        write(root / "content" / "_index.md", home_fm + home_body)
    for sec in sections:
        text = front_matter(sec.title, sec.description, sec.weight, None, None) + \
            section_body(sec, seed)
        for root in (ww, hu):
            write(root / "content" / sec.rel / "_index.md", text)
    total_words = 0
    hugo_mode = "relref" if hugo_links == "relref" else "plain"
    for p in pages:
        body = body_for(p, pages, seed)
        fm = front_matter(p.title, p.description, p.weight, p.date, p.keywords)
        total_words += words(body)
        write(ww / "content" / p.rel, fm + fill_links(body, pages, "wegweiser"))
        write(hu / "content" / p.rel, fm + fill_links(body, pages, hugo_mode))
    uses: dict[str, int] = {}
    for p in pages:
        for k in p.keywords:
            uses[k] = uses.get(k, 0) + 1
    return {
        "pages": len(pages),
        "sections": len(sections),
        "max_section": max(len(s.pages) for s in sections),
        "keywords": len(pool),
        "pages_per_keyword": round(statistics.median(uses.values())) if uses else 0,
        "avg_words": round(total_words / max(1, len(pages))),
        "toml_blocks": sum(p.toml_block for p in pages),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--hugo-links", choices=["plain", "relref"], default="plain",
                    help="plain absolute URL paths (default) or relref shortcodes")
    ap.add_argument("--copy-theme", action="store_true",
                    help="copy themes/default instead of symlinking it")
    ap.add_argument("--shape", choices=SHAPES, default="default",
                    help="default, or sections500: 500-page sections, keywords used evenly")
    a = ap.parse_args()
    if a.pages < 1:
        ap.error("--pages must be at least 1")
    stats = generate(a.pages, a.seed, a.out, a.hugo_links, a.copy_theme, a.shape)
    print(f"gen_corpus: shape {a.shape}: {stats['pages']} pages, {stats['sections']} sections "
          f"(up to {stats['max_section']} pages each), {stats['keywords']} keywords "
          f"(median {stats['pages_per_keyword']} pages each), ~{stats['avg_words']} words/page, "
          f"{stats['toml_blocks']} with TOML blocks -> {a.out}")


if __name__ == "__main__":
    main()
