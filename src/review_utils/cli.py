"""``review``: the authors' command line, a thin layer over :mod:`review_utils.engine.build`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from review_utils.core.errors import DataValidationError, ReviewError
from review_utils.core.paths import Layout, find_root


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="review", description="Build and check the review book.")
    parser.add_argument("--root", type=Path, help="project root (default: found from the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="validate data, execute stale notebooks, compile the site")
    b.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a book parameter from params.yml, e.g. -p as_of=2024-12-31")
    b.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="notebooks executed at once (default: one per core)")
    b.add_argument("--force", action="store_true", help="re-execute every notebook")
    b.add_argument("-q", "--quiet", action="store_true", default=None, help="print only failures and a summary")
    b.add_argument("--no-strict", dest="strict", action="store_false",
                   help="let Sphinx warnings pass (default: warnings fail the build, as in CI)")
    b.add_argument("--no-pdf", dest="pdf", action="store_false", help="build the HTML site only")

    v = sub.add_parser("validate", help="check data/ against datapackage.json and the cross-field rules; "
                                        "warn on fact rows not checked recently")
    v.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="the edition and period for the currency warning, e.g. -p check_within_days=90")
    sub.add_parser("params", help="list the book parameters and their defaults")
    sub.add_parser("links", help="check the built site's internal links; list external ones in _build/links.txt")
    r = sub.add_parser("registry", help="add a ClinicalTrials.gov snapshot to data/registry/, or list them")
    rsub = r.add_subparsers(dest="registry_command", required=True)
    ra = rsub.add_parser("add", help="validate a snapshot and add it (nothing is added if anything is wrong)")
    ra.add_argument("path", type=Path, help="a monitor snapshot folder (trials.csv, sites.csv, metadata.json), "
                    "an API v2 JSON export, or AACT pipe-delimited files (folder or zip)")
    ra.add_argument("--source", help="the collection's name, e.g. ctgov-car-t-oncology (default for a monitor "
                    "folder: the name of the folder above it)")
    ra.add_argument("--date", help="day the records were pulled, YYYY-MM-DD (required unless the input states it)")
    rsub.add_parser("list", help="one line per snapshot: collection, date, trials, sites")
    c = sub.add_parser("clean", help="remove generated output")
    c.add_argument("--cache-only", action="store_true", help="keep the published site, drop cache and staging")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        layout = Layout(find_root(args.root) if args.root else find_root())
        return COMMANDS[args.command](layout, args)
    except DataValidationError as exc:
        print(exc.render(limit=200), file=sys.stderr)
        return 1
    except ReviewError as exc:
        print(f"review: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("review: interrupted; the previous site is unchanged", file=sys.stderr)
        return 130


def _build(layout: Layout, args) -> int:
    from review_utils.core.params import parse_assignments
    from review_utils.engine.build import Options, build

    if args.jobs < 1:
        raise ReviewError(f"--jobs must be at least 1, not {args.jobs}")
    from review_utils.chapters import declared_rows

    build(layout, Options(overrides=parse_assignments(args.param), jobs=args.jobs, force=args.force,
                          quiet=args.quiet, strict=args.strict, pdf=args.pdf, chapter_rows=declared_rows,
                          ledger_checks=lambda data: _ledger_problems(layout, data)))
    return 0


def _validate(layout: Layout, args) -> int:
    from review_utils.chapters import declared_rows
    from review_utils.core.params import parse_assignments, resolve
    from review_utils.data.currency import fact_resources, stale_rows
    from review_utils.data.package import DataPackage
    from review_utils.data.validate import validate_package

    params = resolve(layout.params_file, parse_assignments(args.param), origin="review validate")
    problems = validate_package(layout.data, declared_rows())
    if not problems:  # the audit's own rule needs a valid package: the tier of each flagged claim
        problems = _ledger_problems(layout, layout.data)
    if problems:
        raise DataValidationError(problems)
    package = DataPackage(layout.data)
    print(f"review: data/ is valid ({len(package.resource_names)} resources)")
    # Currency is a warning, not an error: an old check date does not make a row wrong.
    frames = {name: package.load(name) for name in fact_resources(package)}
    stale = stale_rows(package, frames, params["as_of"], params["check_within_days"])
    if stale:
        print(f"review: warning: {len(stale)} fact row(s) not checked against their sources in the "
              f"{params['check_within_days']} days before {params['as_of']} (re-check them and update checked_on):",
              file=sys.stderr)
        for row in stale[:200]:
            print(f"  - {row}", file=sys.stderr)
        if len(stale) > 200:
            print(f"  ... and {len(stale) - 200} more", file=sys.stderr)
    return 0


def _ledger_problems(layout: Layout, data: Path) -> list:
    """Rule claimMateriality (review_utils.chapters.shared.audit) at the default edition."""
    from review_utils.chapters.shared.audit import ledger_problems
    from review_utils.core.params import resolve

    return ledger_problems(data, resolve(layout.params_file)["as_of"])


def _params(layout: Layout, args) -> int:
    from review_utils.core.params import declarations

    for name, decl in sorted(declarations(layout.params_file).items()):
        print(f"{name} ({decl['type']}, default {decl['default']}): {decl.get('help', '').strip()}")
    return 0


def _links(layout: Layout, args) -> int:
    from review_utils.engine.linkcheck import check_site

    if not (layout.html / "index.html").is_file():
        raise ReviewError("no site to check: run review build first")
    report = check_site(layout.html)
    text = report.render()
    (layout.build / "links.txt").write_text(text + "\n", encoding="utf-8")
    print(text.splitlines()[0] + f"; external links: {len(report.external)} (listed in _build/links.txt)")
    for line in report.broken:
        print(f"  {line}", file=sys.stderr)
    return 1 if report.broken else 0


def _registry(layout: Layout, args) -> int:
    from review_utils.data import registry

    if args.registry_command == "list":
        lines = registry.listing(layout.data)
        print("\n".join(lines) if lines else "review: no registry snapshot in data/registry/")
        return 0
    added = registry.add(layout.data, args.path, source=args.source, date=args.date)
    print(f"review: added {added.snapshot_id} ({added.input_format}): {added.trials} trials, {added.sites} sites "
          f"in data/{registry.REGISTRY_DIR}/{added.folder}")
    return 0


def _clean(layout: Layout, args) -> int:
    targets = [layout.state] if args.cache_only else [layout.build]
    for target in targets:
        shutil.rmtree(target, ignore_errors=True)
        print(f"review: removed {target.relative_to(layout.root)}")
    return 0


COMMANDS = {"build": _build, "validate": _validate, "params": _params, "links": _links, "clean": _clean,
            "registry": _registry}

if __name__ == "__main__":
    sys.exit(main())
