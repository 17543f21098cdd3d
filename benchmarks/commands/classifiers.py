"""``boneflare classifiers list|check``: the registered classifiers and their conformance.

``list`` prints every classifier found in the entry-point group ``boneflare.classifiers``
(the built-ins and any installed plugin) with its one-line description. ``check`` runs
the conformance suite (:mod:`boneflare.benchmarks.conformance`) over the named classifiers, or all
of them: exit status 0 when every check passes, 1 when one fails (the classifier and
the check are named), 2 on an unknown name or a plugin that fails to load.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scikit-learn (under every classifier) only when a command runs
    from boneflare.classifiers.base import FlareClassifier

EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``classifiers`` subcommand and its actions."""
    parser = sub.add_parser("classifiers", help="list registered classifiers or check them")
    inner = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    listing = inner.add_parser("list", help="list registered classifiers, one line each")
    listing.set_defaults(run=run_list)
    check = inner.add_parser("check", help="run the conformance suite on classifiers")
    check.add_argument(
        "names",
        nargs="*",
        metavar="SPEC",
        help="classifiers to check: names or package.module:Class, each with optional "
        "[param=value,...] (default: every registered one)",
    )
    check.add_argument(
        "--verbose", "-v", action="store_true", help="print every check, not only failures"
    )
    check.set_defaults(run=run_check)


def _kind(cls: type[FlareClassifier]) -> str:
    if cls.trains_on_test_scenario:
        return "oracle"
    return "learned" if cls.learned else "rule"


def run_list(args: argparse.Namespace) -> int:
    """Print one line per registered classifier: name, kind and description.

    A plugin that fails to load is listed with the reason, and the exit status is 2.
    """
    from boneflare.classifiers import registry
    from boneflare.classifiers.registry import PluginLoadError

    names = registry.names()
    if not names:
        print("no classifier is registered (entry-point group boneflare.classifiers)")
        return 0
    width = max(len(n) for n in names)
    broken = []
    for name in names:
        try:
            cls = registry.get(name)
        except PluginLoadError as exc:
            broken.append(name)
            print(f"{name.ljust(width)}  (broken)   {exc}")
            continue
        print(f"{name.ljust(width)}  {_kind(cls).ljust(9)}  {cls.description}")
    if broken:
        print(f"boneflare: error: failed to load {', '.join(broken)}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _instances(specs: list[str]) -> list[tuple[str, str | None, FlareClassifier]]:
    """Load and instantiate every classifier first: user errors before any work.

    Each spec is a registered name or ``package.module:Class``, with optional
    ``[param=value,...]`` (as ``benchmark --classifiers``); none: every registered one.
    Returns (label, registered name or None for ``module:Class``, instance) triples.
    """
    from boneflare.benchmarks.harness.entries import ALL, registered, resolve_classifiers
    from boneflare.benchmarks.harness.specs import parse_spec

    expanded = [s for spec in specs or [ALL] for s in (registered() if spec == ALL else [spec])]
    entries = resolve_classifiers(expanded)
    out = []
    for entry, spec in zip(entries, expanded, strict=True):
        target = parse_spec(spec).target
        out.append((entry.label, None if ":" in target else target, entry.prototype))
    return out


def run_check(args: argparse.Namespace) -> int:
    """Run the conformance suite; print failures (every check with ``--verbose``)."""
    from boneflare.benchmarks.conformance import all_checks, check_classifier, sample_data

    instances = _instances(list(args.names))
    sample_data()  # simulate the sample once, before the clock starts per classifier
    n_checks = len(all_checks())
    failures = 0
    for label, registered, estimator in instances:
        started = time.perf_counter()
        results = check_classifier(estimator, registered, raise_errors=False)
        seconds = time.perf_counter() - started
        failed = [r for r in results if not r.passed]
        status = "ok" if not failed else "FAILED"
        print(f"{label}: {status} ({n_checks - len(failed)}/{n_checks} checks, {seconds:.1f} s)")
        for r in results:
            if not r.passed:
                print(f"  FAILED {r.check}: {r.message}")
            elif args.verbose:
                print(f"  ok     {r.check}")
        failures += len(failed)
    if failures:
        print(f"{failures} check(s) failed", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return 0
