"""Our own rules for what the registry does not say: a trial's target antigen, disease branch and
sponsor type, from its registered text. Used for snapshots converted from the registry's formats
(API v2 JSON, AACT), which lack the monitors' classification; the trial chapter shows how often
these rules agree with the monitors' classification on the shared snapshots.

The rules, in full:

Target antigen
    the intervention names and the brief title are searched for the antigens in ``ANTIGENS``
    (spelling variants written beside each, e.g. ``CD-19``, ``B-cell maturation antigen``). One
    antigen found: that antigen; two: ``A/B dual``; three or more: ``A/B/C triple`` (antigens in
    the order of ``ANTIGENS``). None found: ``CAR-NK`` if the text says CAR-NK, else
    ``CAR-T_unspecified`` if it says CAR, else ``Other_or_unknown``.
Disease branch
    the conditions and the brief title are searched for haematological words (lymphoma,
    leukaemia, myeloma, ...), solid-tumour words (carcinoma, tumour, cancer, glioma, ...) and
    autoimmune words (lupus, myasthenia, vasculitis, ...). Haematological and solid both:
    ``Mixed``; one of them: ``Heme-onc`` or ``Solid-onc``; neither but autoimmune: ``Autoimmune``;
    nothing: ``Unknown``.
Sponsor type
    the registry's lead-sponsor class: ``INDUSTRY`` is ``Industry``; ``NIH``, ``FED`` and
    ``OTHER_GOV`` are ``Government``; every other class (``OTHER``: hospitals and universities,
    ``NETWORK``, ``INDIV``) is ``Academic``.
"""

from __future__ import annotations

import re

ANTIGENS: dict[str, str] = {
    "CD19": r"CD[\s-]?19(?!\d)",
    "CD20": r"CD[\s-]?20(?!\d)|MS4A1",
    "CD22": r"CD[\s-]?22(?!\d)",
    "BCMA": r"BCMA|B[\s-]?CELL MATURATION ANTIGEN|CD[\s-]?269(?!\d)",
    "CD7": r"CD[\s-]?7(?![\d.])",
    "CD70": r"CD[\s-]?70(?!\d)",
    "CD30": r"CD[\s-]?30(?!\d)",
    "CD33": r"CD[\s-]?33(?!\d)",
    "CD123": r"CD[\s-]?123(?!\d)",
    "CLL1": r"CLL[\s-]?1(?!\d)|CLEC12A",
    "GPRC5D": r"GPRC5D",
    "CD5": r"CD[\s-]?5(?![\d.])",
    "CD38": r"CD[\s-]?38(?!\d)",
    "Claudin 18.2": r"CLAUDIN[\s-]?18\.?2|CLDN[\s-]?18\.?2",
    "GPC3": r"GPC[\s-]?3(?!\d)|GLYPICAN[\s-]?3",
    "Mesothelin": r"MESOTHELIN|MSLN",
    "GD2": r"GD[\s-]?2(?!\d)",
    "HER2": r"HER[\s-]?2(?!\d)|ERBB2",
    "B7-H3": r"B7[\s-]?H3|CD[\s-]?276(?!\d)",
    "EGFR": r"EGFR(?!VIII)",
    "MUC1": r"MUC[\s-]?1(?!\d)",
    "PSMA": r"PSMA",
    "CEA": r"CEA(?![A-Z])",
    "ROR1": r"ROR[\s-]?1(?!\d)",
    "NKG2D": r"NKG2D",
}
_NAMES = list(ANTIGENS)
# one pass over the text finds every antigen (the patterns exclude each other, e.g. CD7 is not CD70)
# (the look-ahead lets the search skip, cheaply, every position that no antigen name can start at)
_ANTIGENS_RE = re.compile("(?=[BCEGHMNPR])(?:" + "|".join(f"(?P<a{i}>{pattern})" for i, pattern in enumerate(ANTIGENS.values()))
                          + ")")

HEME_WORDS = r"LYMPHOMA|LEUK[A]?EMIA|MYELOMA|MYELODYSPLAS|HODGKIN|WALDENSTR|PLASMA CELL|AMYLOIDOSIS|" \
             r"H[A]?EMATOLOGIC|B[\s-]CELL MALIGNAN|T[\s-]CELL MALIGNAN|\b[BT][\s-]ALL\b|\bAML\b|\bCLL\b|\bNHL\b|\bDLBCL\b|\bMDS\b"
SOLID_WORDS = r"CARCINOMA|TUMOU?R|CANCER|SARCOMA|GLIOMA|GLIOBLASTOMA|NEUROBLASTOMA|MELANOMA|MESOTHELIOMA|" \
              r"ADENOCARCINOMA|BLASTOMA|NEOPLASM"
AUTOIMMUNE_WORDS = r"LUPUS|\bSLE\b|MYASTHENIA|SCLEROSIS|SCLERODERMA|ARTHRITIS|VASCULITIS|MYOSITIS|DERMATOMYOSITIS|" \
                   r"SJ[OÖ]GREN|NEUROMYELITIS|NMOSD|AUTOIMMUN|IGG4|PEMPHIG|ANCA|NEPHRITIS|NEPHROPATHY|" \
                   r"IMMUNE THROMBOCYTOPEN|HEMOLYTIC AN[A]?EMIA|SPONDYL|CIDP|POLYNEUROPATHY"
_HEME, _SOLID, _AUTO = (re.compile(w) for w in (HEME_WORDS, SOLID_WORDS, AUTOIMMUNE_WORDS))
BRANCHES = ("Heme-onc", "Solid-onc", "Mixed", "Autoimmune", "Unknown")


def _text(*parts: object) -> str:
    return " ".join("" if p is None else str(p) for p in parts).upper()


def target(interventions: object, title: object) -> str:
    text = _text(interventions, title)
    hits = {int(m.lastgroup[1:]) for m in _ANTIGENS_RE.finditer(text)}
    found = [_NAMES[i] for i in sorted(hits)]
    if len(found) == 1:
        return found[0]
    if len(found) == 2:
        return f"{found[0]}/{found[1]} dual"
    if len(found) > 2:
        return "/".join(found) + " triple"
    if re.search(r"CAR[\s-]?NK", text):
        return "CAR-NK"
    if re.search(r"\bCAR\b|CAR[\s-]?T|CHIMERIC ANTIGEN", text):
        return "CAR-T_unspecified"
    return "Other_or_unknown"


def branch(conditions: object, title: object) -> str:
    text = _text(conditions, title)
    heme, solid = bool(_HEME.search(text)), bool(_SOLID.search(text))
    if heme and solid:
        return "Mixed"
    if heme:
        return "Heme-onc"
    if solid:
        return "Solid-onc"
    if _AUTO.search(text):
        return "Autoimmune"
    return "Unknown"


def sponsor_type(lead_sponsor_class: object) -> str:
    value = "" if lead_sponsor_class is None else str(lead_sponsor_class).upper()
    if value == "INDUSTRY":
        return "Industry"
    if value in ("NIH", "FED", "OTHER_GOV"):
        return "Government"
    return "Academic"
