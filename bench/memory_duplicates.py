"""Measure where "likely duplicate" should start for memory near-duplicates.

Pairs of memories from the sample vault's domain (the Orion rover drive unit
and the CP-200 battery cold plate, plus the user's preferences):

* DUPLICATES: the same fact said twice in different words (what extraction
  produces when a fact comes up again in a later conversation);
* RELATED: two different facts about the same thing (same part, same
  requirement family, same test) that must NOT be merged.

Prints the score distributions, precision/recall/F1 for a sweep of thresholds,
and the timing of a near-duplicate query over a few thousand memories.

    .venv/bin/python bench/memory_duplicates.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from atocore_tui.memory.duplicates import DUPLICATE_THRESHOLD, duplicate_score  # noqa: E402
from atocore_tui.search.embedding import Embedder  # noqa: E402
from atocore_tui.search.text_vectors import TextVectors  # noqa: E402


class VectorCache:
    """The engine's cached short-text vectors (search/text_vectors.py) under one view."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._vectors = TextVectors(embedder)

    def matrix(self, items):
        return self._vectors.matrix("bench", items)

    def encode(self, text: str):
        return self._vectors.encode(text)

DUPLICATES = [
    ("The Orion drive unit uses a two-stage planetary gearbox with a 48:1 total ratio.",
     "ODU gearbox: two planetary stages, 48:1 overall reduction."),
    ("We decided against a harmonic drive for the Orion drive unit; the gearbox is planetary.",
     "Harmonic drive was rejected for ODU-100 in favour of a planetary gearbox."),
    ("The ODU gearbox lubricant is Braycote 601EF PFPE grease.",
     "Orion drive gears are greased with Braycote 601EF (a PFPE grease)."),
    ("The ODU housing is 7075-T6 aluminium with hard anodize.",
     "Housing material for the Orion drive: hard-anodized 7075-T6."),
    ("EM-1 measured mechanical efficiency of 71.2 % at -40 °C, failing ODU-REQ-008.",
     "At -40 °C the EM-1 drive only reached 71.2 % efficiency, so ODU-REQ-008 is not met."),
    ("The drive unit must deliver 18 N·m continuous output torque at 20 rpm.",
     "Continuous torque requirement for the ODU: 18 N·m at 20 rpm."),
    ("Brennan Precision Gears supplies the planetary gear sets for the Orion drive.",
     "Gear sets for ODU come from Brennan Precision Gears."),
    ("EM-1 first natural frequency was 612 Hz in the vibration test.",
     "Vibration test on EM-1 found the first mode at 612 Hz."),
    ("The ODU mass limit is 2.2 kg; EM-1 weighed 2.04 kg.",
     "EM-1 came in at 2.04 kg against the 2.2 kg mass requirement."),
    ("Dust protection on the drive unit is a labyrinth plus a spring-energised PTFE lip seal.",
     "The ODU dust seal combines a labyrinth with a spring-energized PTFE lip seal."),
    ("The Orion drive motor is a frameless Hallvard HF-6025 BLDC at 48 V.",
     "ODU motor: Hallvard HF-6025 frameless brushless DC motor, 48 V bus."),
    ("Motor winding temperature must stay below 130 °C in every operating case.",
     "Winding temperature limit for the drive motor is 130 °C."),
    ("EM-1 backlash measured 0.31 degrees against a 0.5 degree limit.",
     "Backlash on EM-1 was 0.31°, within the 0.5° requirement."),
    ("The Orion field trial is planned for September 2026.",
     "Lunar-analog field trial of the Orion rover happens in September 2026."),
    ("No silicone materials are allowed inside the sealed volume of the drive unit.",
     "Silicone-based materials are banned inside the ODU sealed volume."),
    ("The CP-200 cold plate must keep cell-to-cell delta T at or below 5 °C.",
     "Coldplate requirement: maximum cell-to-cell temperature difference 5 °C."),
    ("Pressure drop across each cold plate must be at most 20 kPa at 6 L/min.",
     "The coldplate pressure drop limit is 20 kPa per plate at 6 litres per minute."),
    ("The coolant is a 50/50 ethylene glycol and deionised water mix with OAT inhibitors.",
     "Cold plate coolant: 50/50 glycol-water with organic acid inhibitors."),
    ("The B-sample cold plates are 6061-T6 with a friction-stir welded lid.",
     "B-samples are made of 6061-T6 aluminium, lid joined by friction stir welding."),
    ("Alveo Thermal manufactures the CP-200 B-samples.",
     "The coldplate B-sample supplier is Alveo Thermal."),
    ("We chose a two-pass U-flow parallel channel layout instead of a serpentine.",
     "Decision: parallel two-pass U-flow channels, not a serpentine path, for the cold plate."),
    ("The B-sample test measured delta T 4.6 °C and pressure drop 17.1 kPa.",
     "B-sample results: 4.6 °C cell delta T and 17.1 kPa pressure drop."),
    ("CP-B-004 leaked in the helium leak test.",
     "B-sample CP-B-004 failed helium leak testing."),
    ("The B-sample mass is 4.58 kg versus a 4.2 kg limit, covered by deviation DEV-CP-002.",
     "Cold plate mass came out at 4.58 kg, over the 4.2 kg limit; deviation DEV-CP-002 covers it."),
    ("Each cold plate rejects 1.3 kW during 1.5C fast charge.",
     "Heat load per plate in fast charge (1.5C) is 1.3 kW."),
    ("The C-sample gate on 2026-09-15 decides on brazed 3003 aluminium.",
     "Brazed 3003 for the C-sample will be decided at the 2026-09-15 gate."),
    ("Daniel Osei runs the CFD for the cold plate at Halden.",
     "Coldplate CFD is done by Daniel Osei (Halden)."),
    ("I prefer SI units only; convert imperial values and give the original in brackets.",
     "Always use SI units and put any imperial original in brackets."),
    ("I want concise bullet lists with the answer first and no intro paragraph.",
     "Answer first in short bullet points, no introduction."),
    ("Use ISO metric coarse threads; no UNC or UNF on either project.",
     "Threads must be ISO metric coarse pitch, never UNC/UNF."),
    ("Every number needs a source: datasheet, standard, test report or my estimate.",
     "Give a source for every number (datasheet, standard, test or estimate)."),
    ("Do not use liquid threadlocker in vacuum hardware.",
     "No liquid thread-locking compound on vacuum hardware."),
    # statements without numbers: only the words can tell
    ("I prefer concise bullet lists in answers.", "Keep answers short and in bullet points."),
    ("We decided to use a planetary gearbox for the drive unit.",
     "The drive unit gearbox will be planetary; that is decided."),
    ("The cold plate lid is friction-stir welded.", "Friction stir welding joins the cold plate lid."),
    ("Alveo Thermal is slow to answer emails; call them instead.",
     "Phone Alveo Thermal rather than emailing, they reply slowly to mail."),
    ("The housing is hard anodized aluminium.", "The housing is aluminium with a hard anodize finish."),
    ("State assumptions explicitly under a heading Assumptions.",
     "List your assumptions explicitly in an Assumptions section."),
    ("Lunaris owns the motor controller.", "The motor controller is Lunaris's responsibility."),
    ("The gearbox lubricant is Braycote grease.", "Braycote grease lubricates the gearbox."),
]

RELATED = [
    ("The drive unit must deliver 18 N·m continuous output torque at 20 rpm.",
     "The drive unit must deliver 45 N·m peak output torque for 10 s."),
    ("Mechanical efficiency must be at least 85 % at +20 °C.",
     "Mechanical efficiency must be at least 75 % at -40 °C."),
    ("The ODU housing is 7075-T6 aluminium with hard anodize.",
     "The ODU bearing liners are 17-4PH stainless steel."),
    ("EM-1 TVAC test ran from 2026-04-13 to 2026-04-17.",
     "EM-1 random vibration test ran on 2026-05-06 and 2026-05-07."),
    ("Gear stage 1 ratio is 8:1.",
     "Gear stage 2 ratio is 6:1."),
    ("The ODU must operate between -40 °C and +50 °C.",
     "The ODU must survive non-operating temperatures between -55 °C and +70 °C."),
    ("Chassis interface is 6 × M5 on an 80 mm PCD.",
     "Wheel interface is 4 × M6 on a 50 mm PCD."),
    ("EM-1 backlash measured 0.31 degrees against a 0.5 degree limit.",
     "EM-1 mass measured 2.04 kg against a 2.2 kg limit."),
    ("Seal drag must be at most 0.8 N·m over temperature.",
     "Breakaway torque at the motor shaft must be at most 0.20 N·m after a cold soak."),
    ("The Orion drive unit uses a two-stage planetary gearbox with a 48:1 total ratio.",
     "The Orion drive unit uses a crossed-roller output bearing."),
    ("Brennan Precision Gears supplies the planetary gear sets for the Orion drive.",
     "Lunaris Robotics owns the rover, the motor controller and the test campaign."),
    ("The ODU first natural frequency must exceed 150 Hz.",
     "The ODU must withstand 6.8 g rms random vibration for 60 s per axis."),
    ("EM-2 TVAC re-test is planned for June 2026.",
     "EM-2 dust test is planned for June 2026."),
    ("Bearing and gear bulk temperature must stay below 90 °C.",
     "Motor winding temperature must stay below 130 °C."),
    ("The CP-200 cold plate must keep cell-to-cell delta T at or below 5 °C.",
     "The CP-200 cold plate must keep the maximum cell temperature at or below 45 °C."),
    ("Pressure drop across each cold plate must be at most 20 kPa at 6 L/min.",
     "Coolant flow is 6 L/min per plate, 12 L/min for the pack."),
    ("Helium leak rate must be at most 1e-5 mbar·L/s.",
     "Proof pressure is 3.75 bar and burst pressure at least 7.5 bar."),
    ("The B-sample cold plates are 6061-T6 with a friction-stir welded lid.",
     "The C-sample may switch to brazed 3003 aluminium."),
    ("CFD predicted delta T 4.2 °C and pressure drop 16.4 kPa.",
     "The B-sample test measured delta T 4.6 °C and pressure drop 17.1 kPa."),
    ("Each cold plate rejects 1.3 kW during 1.5C fast charge.",
     "Each cold plate rejects 0.45 kW during continuous driving."),
    ("CP-B-004 leaked in the helium leak test.",
     "CP-B-002 passed the helium leak test after rework."),
    ("Alveo Thermal manufactures the CP-200 B-samples.",
     "Vektor Utility Vehicles owns the pack and the vehicle cooling loop."),
    ("The pack is 108S1P LFP prismatic cells, 36.3 kWh.",
     "There are two cold plates per pack, each under two modules."),
    ("Plate footprint is 760 × 420 mm.",
     "Plate thickness is 6 mm: a 4 mm base and a 2 mm lid."),
    ("14 B-samples with a revised weld path are due on 2026-05-15.",
     "6 good B-samples are to be delivered to Vektor by 2026-05-29."),
    ("Marta Kowalczyk is Vektor's battery systems lead.",
     "Tobias Frank is Vektor's pack mechanical engineer."),
    ("I prefer SI units only; convert imperial values and give the original in brackets.",
     "Say bar gauge or bar absolute, never a bare bar."),
    ("I want concise bullet lists with the answer first and no intro paragraph.",
     "Use tables to compare options, with criteria as rows."),
    ("Fits follow ISO 286, general tolerances ISO 2768-mK.",
     "Drawings use first-angle projection."),
    ("Use A2-70 stainless fasteners for general use.",
     "Use A286 fasteners where strength and vacuum matter."),
    ("The ODU gearbox lubricant is Braycote 601EF PFPE grease.",
     "Braycote 601EF creeps above 90 °C, so bulk temperature is limited to 90 °C."),
    ("The cold plate coolant inlet is 25 °C in the fast-charge case.",
     "The drive unit rejects its heat by conduction through the chassis interface only."),
    # statements without numbers
    ("I prefer concise bullet lists in answers.", "I prefer tables when comparing design options."),
    ("The dust seal is a spring-energised PTFE lip seal.", "The output bearing is a crossed-roller bearing."),
    ("We decided to use a planetary gearbox for the drive unit.",
     "We decided to use a PFPE grease for the drive unit gearbox."),
    ("The cold plate lid is friction-stir welded.", "The cold plate lid is vacuum brazed on the C-sample."),
    ("Alveo Thermal is slow to answer emails; call them instead.",
     "Brennan Precision Gears has a long lead time on gear sets."),
    ("The housing is hard anodized aluminium.", "The housing is titanium alloy."),
    ("State assumptions explicitly under a heading Assumptions.",
     "If you don't know, say so and tell me what to measure."),
    ("Lunaris owns the motor controller.", "Halden owns the mechanical design of the drive unit."),
    ("The coolant is glycol and water.", "The coolant flows through parallel channels."),
    ("The gearbox lubricant is Braycote grease.", "The gearbox lubricant is a dry film MoS2 coating."),
]


def cosines(cache: VectorCache, pairs) -> np.ndarray:
    left = cache.matrix([(f"l{i}", a) for i, (a, _) in enumerate(pairs)])
    right = cache.matrix([(f"r{i}", b) for i, (_, b) in enumerate(pairs)])
    return np.einsum("ij,ij->i", left, right)


def scores(cache: VectorCache, pairs) -> np.ndarray:
    """What near_duplicates reports: cosine, capped when the numbers differ."""
    return np.array([duplicate_score(float(c), a, b)
                     for c, (a, b) in zip(cosines(cache, pairs), pairs, strict=True)])


def sweep(dup: np.ndarray, rel: np.ndarray) -> None:
    print("threshold  precision  recall  F1    (TP FP FN)")
    for threshold in np.arange(0.60, 0.951, 0.025):
        tp = int((dup >= threshold).sum())
        fp = int((rel >= threshold).sum())
        fn = len(dup) - tp
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / len(dup)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        mark = "  <- DUPLICATE_THRESHOLD" if abs(threshold - DUPLICATE_THRESHOLD) < 1e-6 else ""
        print(f"  {threshold:.3f}    {precision:.2f}      {recall:.2f}   {f1:.2f}  ({tp} {fp} {fn}){mark}")


def timing(cache: VectorCache, n: int) -> None:
    texts = [f"{a} (variant {i})" for i in range(n // len(DUPLICATES) + 1) for a, _ in DUPLICATES][:n]
    items = [(f"m{i}", t) for i, t in enumerate(texts)]
    started = time.perf_counter()
    cache.matrix(items)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        matrix = cache.matrix(items)
        query = cache.encode("Orion gearbox ratio 48:1")
        best = np.argsort(-(matrix @ query))[:5]
    warm = (time.perf_counter() - started) / 20
    print(f"{n} memories: first query (encode all) {cold * 1000:.0f} ms, cached query {warm * 1000:.1f} ms"
          f" (best {best[0]})")


def service_timing(n: int) -> None:
    """The real path: memories in a temporary data dir, near_duplicates and the review list."""
    import tempfile

    from atocore_tui.config import load_settings
    from atocore_tui.engine import Engine

    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(load_settings(env={}, overrides={"data_dir": Path(folder)}))
        try:
            texts = [a for a, _ in DUPLICATES + RELATED] + [b for _, b in DUPLICATES + RELATED]
            with engine.db.atomic():
                for i in range(n):
                    engine.memories.create("project", f"{texts[i % len(texts)]} (note {i})",
                                           status="candidate" if i % 10 == 0 else "active")
            started = time.perf_counter()
            engine.memories.near_duplicates("ODU gearbox: two planetary stages, 48:1 overall reduction.")
            cold = time.perf_counter() - started
            started = time.perf_counter()
            for _ in range(10):
                engine.memories.near_duplicates("Cold plate coolant is glycol and water.")
            warm = (time.perf_counter() - started) / 10
            started = time.perf_counter()
            items = engine.review.list(order="evidence", limit=50)
            review = time.perf_counter() - started
            print(f"service, {n} memories: near_duplicates first {cold * 1000:.0f} ms, then {warm * 1000:.1f} ms;"
                  f" review.list(evidence, 50 of {n // 10}) {review * 1000:.0f} ms ({len(items)} items)")
        finally:
            engine.close()


def main() -> None:
    cache = VectorCache(Embedder())
    print("plain cosine similarity:")
    sweep(cosines(cache, DUPLICATES), cosines(cache, RELATED))
    print("duplicate score (cosine, capped when numbers differ):")
    dup, rel = scores(cache, DUPLICATES), scores(cache, RELATED)
    print(f"{len(DUPLICATES)} duplicate pairs: min {dup.min():.3f} median {np.median(dup):.3f} max {dup.max():.3f}")
    print(f"{len(RELATED)} related pairs:   min {rel.min():.3f} median {np.median(rel):.3f} max {rel.max():.3f}")
    sweep(dup, rel)
    print("highest related pairs:")
    for i in np.argsort(-rel)[:4]:
        print(f"  {rel[i]:.3f}  {RELATED[i][0][:50]!r} / {RELATED[i][1][:50]!r}")
    print("lowest duplicate pairs:")
    for i in np.argsort(dup)[:4]:
        print(f"  {dup[i]:.3f}  {DUPLICATES[i][0][:50]!r} / {DUPLICATES[i][1][:50]!r}")
    for n in (1000, 5000):
        timing(VectorCache(cache.embedder), n)
    service_timing(2000)


if __name__ == "__main__":
    main()
