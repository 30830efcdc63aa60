"""Generated books for the scale scenarios: more notebooks, or a larger data package.

``scale_notebooks(root, k)``: the book with k times its notebooks. Copies of every notebook of
the table of contents are added under new names (``<stem>_x2`` …) in an extra part of the
table of contents; in each copy the labels the notebooks define (``(chapter-x)=``, table and
figure labels) get the copy's suffix, so the copies are valid pages that Sphinx numbers and
cross-references like the originals, and each copy writes its figures under its own name.

``scale_data(root, k)``: the data package with k times the rows. Each row is repeated k - 1
times with fresh keys (primary keys, unique fields and the foreign keys pointing at them get a
``-x<n>`` suffix, and the key patterns accept it), so validation passes and every chapter runs
on k times the rows; the original rows keep their keys, so the chapters' lookups still match.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

_LABEL_DEF = re.compile(r"^\(([\w:-]+)\)=\s*$", re.M)
# table and figure labels are written as strings in the code cells (label="tbl-x", or in tuples)
_LABEL_ARG = re.compile(r"""["']((?:tbl|fig)-[\w:-]+)["']""")
_START = re.compile(r"""chapter\.start\(\s*["'](\w+)["']""")


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def scale_notebooks(root: Path, factor: int) -> int:
    """Add ``factor - 1`` copies of every notebook; returns the number of notebooks in the book."""
    import yaml

    from review_utils.core.paths import Layout
    from review_utils.engine import site

    notebooks = site.notebooks(Layout(root))
    labels: set[str] = set()
    for path in notebooks:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            text = _source(cell)
            labels.update(_LABEL_DEF.findall(text))
            labels.update(_LABEL_ARG.findall(text))
    label_re = re.compile(r"(?<![\w:-])(" + "|".join(sorted(map(re.escape, labels), key=len, reverse=True)) + r")(?![\w:-])")
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    chapters = []
    for copy in range(2, factor + 1):
        suffix = f"x{copy}"
        for path in notebooks:
            nb = json.loads(path.read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                text = label_re.sub(lambda m: f"{m.group(1)}-{suffix}", _source(cell))
                cell["source"] = _START.sub(lambda m: f'chapter.start("{m.group(1)}_{suffix}"', text)
            target = path.with_name(f"{path.stem}_{suffix}.ipynb")
            target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            chapters.append({"file": target.relative_to(root).with_suffix("").as_posix()})
    if chapters:
        toc["parts"].append({"caption": "Generated copies (benchmark)", "chapters": chapters})
        (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return len(notebooks) * factor


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _key_fields(resource: dict) -> set[str]:
    schema = resource["schema"]
    keys = schema.get("primaryKey", [])
    fields = set([keys] if isinstance(keys, str) else keys)
    fields |= {f["name"] for f in schema["fields"] if f.get("constraints", {}).get("unique")}
    return fields


def _can_suffix(field: dict) -> bool:
    # a key part with allowed values or a non-text type stays; the other key parts keep rows unique
    return field.get("type", "string") == "string" and "enum" not in field.get("constraints", {})


def scale_data(root: Path, factor: int) -> int:
    """Repeat every row ``factor - 1`` times with fresh keys; returns the package's row count."""
    descriptor_path = root / "data/datapackage.json"
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in descriptor["resources"]}
    keyed = {name: _key_fields(r) for name, r in resources.items()}
    total = 0
    for name, resource in resources.items():
        # fields holding a key of this or another resource: they get the copy's suffix
        suffixed = set(keyed[name])
        for fk in resource["schema"].get("foreignKeys", []):
            fields = fk["fields"] if isinstance(fk["fields"], list) else [fk["fields"]]
            suffixed |= set(fields)
        suffixed &= {f["name"] for f in resource["schema"]["fields"] if _can_suffix(f)}
        path = root / "data" / resource["path"]
        header, rows = _rows(path)
        index = [header.index(f) for f in sorted(suffixed) if f in header]
        out = list(rows)
        for copy in range(2, factor + 1):
            for row in rows:
                new = list(row)
                for i in index:
                    if new[i]:
                        # a list-valued key cell ("a;b") keeps its shape
                        new[i] = ";".join(f"{part}-x{copy}" if part else part for part in new[i].split(";"))
                out.append(new)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([header, *out])
        path.write_text(buffer.getvalue(), encoding="utf-8")
        total += len(out)
        for field in resource["schema"]["fields"]:
            constraints = field.get("constraints", {})
            if field["name"] in suffixed and "pattern" in constraints:
                body = constraints["pattern"].removeprefix("^").removesuffix("$")
                constraints["pattern"] = f"^(?:{body})(?:-x[0-9]+)?$"
        if "maxBytes" in resource:
            resource["maxBytes"] = resource["maxBytes"] * factor * 2
    if "maxBytes" in descriptor:
        descriptor["maxBytes"] = descriptor["maxBytes"] * factor * 2
    descriptor_path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return total
