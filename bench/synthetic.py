"""A deterministic generator of realistic-looking engineering notes and sentences.

Shared by ``bench/ingest_query.py`` (a vault of markdown notes) and
``bench/index_recall.py`` (loose sentences for embedding). Everything is driven
by one ``random.Random(seed)``, so the same seed gives the same bytes.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------- vocabulary
PROJECTS = {
    # slug: (part-number prefix, requirement prefix, one-line description)
    "orion-drive": ("ODU", "ODU-REQ", "rover wheel drive unit"),
    "helios-valve": ("HLV", "HLV-REQ", "cryogenic propellant valve"),
    "tern-gimbal": ("TGB", "TGB-REQ", "two-axis antenna gimbal"),
    "kestrel-pump": ("KSP", "KSP-REQ", "electric coolant pump"),
    "atlas-frame": ("ATF", "ATF-REQ", "instrument support frame"),
}

PARTS = [
    "bearing", "gearbox", "housing", "output shaft", "input shaft", "seal", "flange", "planet carrier",
    "ring gear", "sun gear", "motor stator", "rotor", "encoder", "wave spring", "bracket", "fastener",
    "heater", "thermistor", "harness", "connector", "poppet", "valve seat", "bellows", "actuator",
    "solenoid", "impeller", "volute", "diffuser", "mounting foot", "strut", "node fitting", "insert",
    "spacer", "washer", "cover plate", "gasket", "O-ring", "labyrinth seal", "damper", "hinge",
    "hard stop", "limit switch", "cable wrap", "slip ring", "baseplate", "stiffener", "clevis",
]
MATERIALS = [
    "7075-T6 aluminium", "6061-T6 aluminium", "Ti-6Al-4V", "17-4PH stainless", "316L stainless",
    "440C stainless", "Inconel 718", "PEEK CF30", "Vespel SP-3", "PTFE", "Invar 36", "CFRP M55J",
    "beryllium copper", "A286", "Nitronic 60", "Delrin", "Viton", "silicone S-383", "Si3N4 ceramic",
    "MoS2-coated steel", "Braycote 601EF grease", "Castrol 815Z oil", "Scotch-Weld 2216 adhesive",
]
PROCESSES = [
    "anodising", "hard anodising", "passivation", "nitriding", "shot peening", "electropolishing",
    "vacuum bake-out", "heat treatment to H1025", "stress relief", "grinding", "wire EDM",
    "5-axis milling", "selective laser melting", "bonding", "potting", "torque striping",
    "helium leak testing", "proof testing", "run-in", "thermal cycling", "random vibration testing",
]
PROPERTIES = [
    "efficiency", "backlash", "stiffness", "preload", "leak rate", "outgassing", "CTE mismatch",
    "fatigue life", "yield margin", "torque margin", "thermal resistance", "mass", "natural frequency",
    "surface roughness", "wear rate", "friction coefficient", "creep", "cold-weld risk",
    "hysteresis", "power draw", "response time", "pressure drop", "flow rate", "noise floor",
]
TESTS = [
    "TVAC", "sine vibration", "random vibration", "shock", "life test", "thermal cycling",
    "EMC", "proof pressure", "burst test", "leak test", "functional test", "run-in test",
]
PEOPLE = [
    "Alex Brandt", "Kenji Mori", "Sofia Berg", "Priya Nair", "Jonas Weber", "Mara Lindqvist",
    "Tomasz Nowak", "Aiko Tanaka", "Rafael Ortiz", "Ingrid Solberg", "Omar Haddad", "Lena Vogel",
]
SUPPLIERS = ["Halden", "Hallvard", "Lunaris", "Norrtek", "Vektor Aero", "Brightline", "Castellan"]
REVIEWS = ["PDR", "CDR", "TRR", "MRR", "QR", "design review", "peer review"]
NOTE_KINDS = [
    "design note", "trade study", "test report", "decision", "meeting notes", "analysis",
    "requirements", "lessons learned", "procedure", "anomaly report",
]
TOPIC_TAGS = [
    "design", "analysis", "test", "decision", "thermal", "structural", "tribology", "materials",
    "procurement", "risk", "verification", "assembly", "lubrication", "vacuum", "cryo", "wiring",
]
SECTION_TITLES = [
    "Context", "Background", "Requirements", "Design", "Analysis", "Results", "Discussion",
    "Open issues", "Risks", "Decision", "Next steps", "Test setup", "Observations", "Margins",
    "Interfaces", "Materials", "Manufacturing", "Verification", "Assumptions", "Loads",
    "Thermal budget", "Mass budget", "Lessons learned", "Actions", "References",
]
SUB_TITLES = [
    "Option A", "Option B", "Option C", "Baseline", "Alternative rejected", "Worst case",
    "Cold case", "Hot case", "Nominal case", "Test results", "Root cause", "Corrective action",
    "Calculation", "Inputs", "Method", "Summary", "Details", "Follow-up",
]
UNITS = [
    ("N·m", 0.05, 120), ("N", 5, 9000), ("kN", 0.5, 60), ("mm", 0.2, 400), ("µm", 0.5, 80),
    ("kg", 0.02, 25), ("g", 2, 900), ("W", 0.2, 300), ("V", 3, 120), ("A", 0.1, 30),
    ("rpm", 10, 12000), ("bar", 0.5, 350), ("MPa", 5, 1400), ("GPa", 2, 300), ("Hz", 5, 2000),
    ("°C", -196, 180), ("K", 20, 450), ("%", 0.1, 99), ("mbar·l/s", 1e-9, 1e-5), ("grms", 1, 25),
]
VERBS = [
    "reduces", "increases", "limits", "drives", "sets", "dominates", "affects", "constrains",
    "improves", "degrades", "meets", "exceeds", "violates", "satisfies",
]
ADJECTIVES = [
    "worst-case", "nominal", "measured", "predicted", "allowable", "minimum", "maximum",
    "derated", "cold-case", "hot-case", "qualified", "expected",
]


def _value(rng: random.Random) -> str:
    unit, low, high = rng.choice(UNITS)
    if high <= 1e-4:
        return f"{rng.uniform(low, high):.1e} {unit}"
    value = rng.uniform(low, high)
    if unit == "%" or abs(value) < 10:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    elif abs(value) < 1000:
        text = f"{value:.1f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.0f}"
    return f"{text} {unit}"


def requirement_id(rng: random.Random, project: str) -> str:
    return f"{PROJECTS[project][1]}-{rng.randint(1, 80):03d}"


def part_number(rng: random.Random, project: str) -> str:
    return f"{PROJECTS[project][0]}-{rng.randint(100, 399)}"


SENTENCE_TEMPLATES = [
    "The {part} is made from {material} and sees {adj} loads of {value}.",
    "{property} of the {part} {verb} the {property2} budget; {adj} value is {value}.",
    "Per {req}, the {part} must hold {value} over the full range of {value2}.",
    "{person} proposed switching the {part} ({pn}) to {material} after {test}.",
    "After {process}, the {part} showed {property} of {value} against an allowable of {value2}.",
    "{supplier} quotes a lead time of {weeks} weeks for the {part} in {material}.",
    "During {test} the {part} reached {value}, which {verb} {req}.",
    "We keep {material} for the {part} because its {property} stays stable down to {temp}.",
    "The {adj} {property} of {pn} is {value}; margin against {req} is {margin} %.",
    "Action on {person}: confirm {process} of the {part} with {supplier} before the {review}.",
    "The {part} interface to the {part2} uses {material}; {property} at {temp} is {value}.",
    "{test} of {pn} found {property} out of family at {value}; root cause under review.",
    "Changing the {part2} to {material} {verb} {property} by {margin} %.",
    "At the {review}, {person} accepted the {part} design with {property} of {value}.",
]


def sentence(rng: random.Random, project: str) -> str:
    template = rng.choice(SENTENCE_TEMPLATES)
    part, part2 = rng.sample(PARTS, 2)
    prop, prop2 = rng.sample(PROPERTIES, 2)
    text = template.format(
        part=part, part2=part2, material=rng.choice(MATERIALS), adj=rng.choice(ADJECTIVES),
        value=_value(rng), value2=_value(rng), property=prop, property2=prop2,
        verb=rng.choice(VERBS), req=requirement_id(rng, project), person=rng.choice(PEOPLE),
        pn=part_number(rng, project), test=rng.choice(TESTS), process=rng.choice(PROCESSES),
        supplier=rng.choice(SUPPLIERS), weeks=rng.randint(2, 30), review=rng.choice(REVIEWS),
        temp=f"{rng.randint(-196, 150)} °C", margin=rng.randint(1, 60))
    return text[0].upper() + text[1:]


def sentences(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct sentences (for the index recall benchmark)."""
    rng = random.Random(seed)
    projects = list(PROJECTS)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(sentence(rng, rng.choice(projects)), None)
    return list(seen)


# --------------------------------------------------------------------- notes
@dataclass
class NoteSpec:
    slug: str
    folder: str
    title: str
    project: str
    kind: str
    tags: list[str] = field(default_factory=list)


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _plan_notes(rng: random.Random, count: int) -> list[NoteSpec]:
    projects = list(PROJECTS)
    specs: list[NoteSpec] = []
    used: set[str] = set()
    for number in range(count):
        project = rng.choice(projects)
        kind = rng.choice(NOTE_KINDS)
        subject = rng.choice(PARTS) if rng.random() < 0.6 else rng.choice(PROPERTIES)
        qualifier = rng.choice([rng.choice(MATERIALS), rng.choice(TESTS), rng.choice(PROCESSES),
                                rng.choice(REVIEWS)])
        title = f"{kind.capitalize()}: {subject} – {qualifier}"
        slug = _slugify(f"{kind} {subject} {qualifier}")[:60].strip("-")
        if slug in used:
            slug = f"{slug}-{number:05d}"
        used.add(slug)
        folder = (f"projects/{project}/{kind.replace(' ', '-')}s" if rng.random() < 0.8
                  else rng.choice(["knowledge", "meetings", "inbox"]))
        tags = [project, _slugify(kind), *rng.sample(TOPIC_TAGS, rng.randint(1, 3))]
        specs.append(NoteSpec(slug, folder, title, project, kind, list(dict.fromkeys(tags))))
    return specs


def _paragraph(rng: random.Random, spec: NoteSpec, specs: list[NoteSpec]) -> str:
    parts = []
    for _ in range(rng.randint(2, 6)):
        text = sentence(rng, spec.project)
        roll = rng.random()
        if roll < 0.18:
            other = rng.choice(specs)
            link = f"[[{other.slug}]]" if rng.random() < 0.7 else f"[[{other.slug}|{other.title.split(':')[0]}]]"
            text = text[:-1] + f" (see {link})."
        elif roll < 0.28:
            text += f" #{rng.choice(TOPIC_TAGS)}"
        parts.append(text)
    return " ".join(parts)


def _bullets(rng: random.Random, spec: NoteSpec) -> str:
    lines = []
    for _ in range(rng.randint(3, 6)):
        lines.append(f"- {rng.choice(PARTS).capitalize()}: {rng.choice(MATERIALS)}, "
                     f"{rng.choice(PROPERTIES)} {_value(rng)} ({requirement_id(rng, spec.project)})")
    return "\n".join(lines)


def _table(rng: random.Random, spec: NoteSpec) -> str:
    rows = ["| Item | Part no. | Value | Requirement |", "|---|---|---|---|"]
    for _ in range(rng.randint(3, 7)):
        rows.append(f"| {rng.choice(PARTS)} | {part_number(rng, spec.project)} | {_value(rng)} "
                    f"| {requirement_id(rng, spec.project)} |")
    return "\n".join(rows)


def render_note(rng: random.Random, spec: NoteSpec, specs: list[NoteSpec]) -> str:
    target = int(rng.triangular(200, 4800, 800))  # characters of body, roughly 1-6 KB per note
    date = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
    out = [
        "---",
        f'title: "{spec.title}"',
        f"tags: [{', '.join(spec.tags)}]",
        f"project: {spec.project}",
        f"date: {date}",
        f"status: {rng.choice(['draft', 'baseline', 'accepted', 'superseded', 'open'])}",
        "---",
        "",
        f"# {spec.title}",
        "",
        f"{PROJECTS[spec.project][2].capitalize()} ({spec.project}), {spec.kind} by "
        f"{rng.choice(PEOPLE)}. #{spec.project} #{_slugify(spec.kind)}",
        "",
    ]
    sections = rng.sample(SECTION_TITLES, rng.randint(3, 8))
    size = sum(len(line) + 1 for line in out)
    per_section = max(60, (target - size) // len(sections))
    for index, heading in enumerate(sections, 1):
        out += [f"## {index}. {heading}", ""]
        written = 0
        while written < per_section:
            roll = rng.random()
            if roll < 0.12 and written:
                block = f"### {rng.choice(SUB_TITLES)}\n\n{_paragraph(rng, spec, specs)}"
                if rng.random() < 0.3:
                    block += f"\n\n#### {rng.choice(SUB_TITLES)}\n\n{_paragraph(rng, spec, specs)}"
            elif roll < 0.24:
                block = _bullets(rng, spec)
            elif roll < 0.30:
                block = _table(rng, spec)
            else:
                block = _paragraph(rng, spec, specs)
            out += [block, ""]
            written += len(block) + 1
    return "\n".join(out)


def generate_vault(root: Path, count: int, seed: int = 42) -> dict:
    """Write ``count`` notes under ``root``; returns {"files", "bytes"}."""
    rng = random.Random(seed)
    specs = _plan_notes(rng, count)
    total = 0
    made: set[str] = set()
    for spec in specs:
        folder = root / spec.folder
        if spec.folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(spec.folder)
        data = render_note(rng, spec, specs).encode("utf-8")
        (folder / f"{spec.slug}.md").write_bytes(data)
        total += len(data)
    return {"files": len(specs), "bytes": total}


QUERY_TEMPLATES = [
    "what material is the {part} made of",
    "{part} {property} {test}",
    "{req} {part}",
    "why did we choose {material} for the {part}",
    "{property} of {material} at low temperature",
    "{pn} {test} results",
    "who decided the {part} design at the {review}",
    "{supplier} lead time {part}",
    "{process} of {material} {part}",
    "{project} {part} {property} margin",
    "root cause {property} out of family {test}",
    "cold-case {property} {part}",
]


def queries(count: int, seed: int = 99) -> list[str]:
    """Realistic search prompts built from the same vocabulary as the notes."""
    rng = random.Random(seed)
    projects = list(PROJECTS)
    out = []
    for _ in range(count):
        project = rng.choice(projects)
        out.append(rng.choice(QUERY_TEMPLATES).format(
            part=rng.choice(PARTS), property=rng.choice(PROPERTIES), test=rng.choice(TESTS),
            req=requirement_id(rng, project), material=rng.choice(MATERIALS),
            pn=part_number(rng, project), review=rng.choice(REVIEWS),
            supplier=rng.choice(SUPPLIERS), process=rng.choice(PROCESSES), project=project))
    return out


# ----------------------------------------------------- run environment
def run_environment() -> dict:
    """What the printed figures were measured on: commit, cpus, load, date.

    The engine changes fast; figures without the commit they measured are
    hard to compare. Only read-only git commands are run.
    """
    import os
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "atocore_tui"))
    return {
        "commit": commit + ("+dirty" if dirty else ""),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load1": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
