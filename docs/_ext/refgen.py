"""Reference pages generated from the code, so that the documentation cannot drift.

Each ``*_markdown`` function returns MyST Markdown built from a single source of truth:

* :func:`scenarios_markdown`: the presets (:func:`boneflare.simulator.scenarios.preset_names`) and
  every parameter of the scenario schema (:mod:`boneflare.simulator.scenarios.schema`);
* :func:`tables_markdown`: every output column (:data:`boneflare.simulator.table_schema.TABLES`);
* :func:`cli_markdown`: the help of every ``boneflare`` subcommand
  (:func:`boneflare.benchmarks.cli.build_parser`);
* :func:`api_markdown`: the ``boneflare`` namespace and the public modules of its
  rooms ``simulator``, ``classifiers`` and ``benchmarks``, found by walking the packages.

The Sphinx extension :mod:`boneflare_sphinx` puts them into the pages at build time.
Run this file to print one of them: ``python docs/_ext/refgen.py scenarios``; with
``--write`` it refreshes the blocks kept in the committed pages (:data:`COMMITTED`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import inspect
import os
import pkgutil
import re
import sys
from collections.abc import Iterator
from typing import Any

PACKAGES = ("boneflare", "boneflare.simulator", "boneflare.classifiers", "boneflare.benchmarks")
"""Top-level packages whose modules make the API reference."""

EXCLUDED_MODULES = ("boneflare.benchmarks.perf",)
"""Module trees left out of the API reference (performance suites, not API)."""

HELP_WIDTH = 88
"""Terminal width at which ``--help`` texts are rendered (fixed so pages are stable)."""


# ----------------------------------------------------------------------------- helpers
def _cell(text: object) -> str:
    """Make a value safe inside a Markdown pipe-table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _table(header: list[str], rows: list[list[object]]) -> str:
    """Return a Markdown pipe table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _show(value: Any) -> str:
    """Show a parameter value as it would be written in TOML (floats shortened)."""
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, float):
        text = repr(value)
        return f"`{text}`" if len(text) <= 10 else f"`{value:.6g}`"
    return f"`{value}`"


def _first_line(doc: str | None) -> str:
    """Return the first paragraph of a docstring as one line."""
    if not doc:
        return ""
    paragraph = inspect.cleandoc(doc).split("\n\n")[0]
    return " ".join(paragraph.split())


def first_sentence(doc: str | None) -> str:
    """Return the first sentence of a docstring, never cutting inside inline markup.

    A period ends the sentence only outside double-backtick literals and single-backtick
    roles, so ``start .. stop`` or ``e.g. x`` stay whole.
    """
    text = _first_line(doc)
    for match in re.finditer(r"\.(\s|$)", text):
        head = text[: match.start() + 1]
        literals = head.count("``")
        if literals % 2 == 0 and (head.count("`") - 2 * literals) % 2 == 0:
            return head
    return text


def rst_summary_table(rows: list[tuple[str, str]]) -> list[str]:
    """Return the lines of a two-column reStructuredText list table (link, summary)."""
    lines = [".. list-table::", "   :widths: 35 65", ""]
    for link, summary in rows:
        lines += [f"   * - {link}", f"     - {summary or ' '}"]
    lines.append("")
    return lines


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten a nested dict into dotted keys."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# ----------------------------------------------------------------------------- scenarios
def _walk_schema(cls: type, prefix: str = "") -> Iterator[tuple[str, type, list]]:
    """Yield (dotted section name, section class, [(field, spec), ...]) in schema order."""
    from boneflare.simulator.scenarios.params import spec_of

    params, sections = [], []
    for f in dataclasses.fields(cls):
        spec = spec_of(f)
        if spec is not None:
            params.append((f, spec))
        elif dataclasses.is_dataclass(f.default_factory):
            sections.append(f)
    yield prefix.rstrip("."), cls, params
    for f in sections:
        yield from _walk_schema(f.default_factory, f"{prefix}{f.name}.")


def scenarios_markdown() -> str:
    """Return the presets and the parameter reference, from the scenario schema."""
    from boneflare.simulator.scenarios import load_scenario, preset_names, scenario_to_dict
    from boneflare.simulator.scenarios.loader import _resolve_raw
    from boneflare.simulator.scenarios.schema import Scenario

    paper = _flatten(scenario_to_dict(load_scenario("paper")))
    out = ["## Presets", ""]
    out.append(
        "Shipped with the package (`boneflare scenarios list`); each is shown with what "
        "it changes with respect to `paper`, the calibrated default."
    )
    out.append("")
    for name in preset_names():
        scenario = load_scenario(name)
        parent = _resolve_raw(name).get("extends")
        values = _flatten(scenario_to_dict(scenario))
        changed = [
            (key, paper[key], value)
            for key, value in values.items()
            if key not in ("name", "description") and value != paper[key]
        ]
        out += [f"### `{name}`", "", scenario.description or "(no description)", ""]
        if parent:
            out += [f"Extends `{parent}`.", ""]
        if name == "paper":
            out += ["The reference: every other preset is described by its differences.", ""]
        elif changed:
            rows = [[f"`{k}`", _show(old), _show(new)] for k, old, new in changed]
            out += [_table(["Parameter", "`paper`", f"`{name}`"], rows), ""]
        else:
            out += ["Same parameters as `paper`.", ""]

    defaults = _flatten(scenario_to_dict(Scenario()))
    out += ["## Parameters", ""]
    out.append(
        "Every parameter of the schema, by section. *Default* is the schema's value; where "
        "the `paper` preset sets another, it is given in brackets. *Allowed* is checked "
        "when a scenario is loaded, and an error names the field, the value and this range."
    )
    out.append("")
    for section, cls, params in _walk_schema(Scenario):
        if not params:
            continue
        title = f"`{section}`" if section else "Top level"
        out += [f"### {title}", "", _first_line(cls.__doc__), ""]
        rows = []
        for f, spec in params:
            dotted = f"{section}.{f.name}" if section else f.name
            default = _show(defaults[dotted])
            if paper[dotted] != defaults[dotted]:
                default += f" (paper: {_show(paper[dotted])})"
            unit = "" if spec.unit == "1" else spec.unit
            rows.append([f"`{dotted}`", default, unit, spec.allowed(), spec.doc, spec.source])
        header = ["Parameter", "Default", "Unit", "Allowed", "Meaning", "Source"]
        out += [_table(header, rows), ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------- tables
def tables_markdown() -> str:
    """Return one section per output table with its columns' dtype, unit and meaning."""
    from boneflare.simulator.table_schema import TABLES

    out = []
    for name, columns in TABLES.items():
        out += [f"## `{name}`", ""]
        rows = []
        for column, spec in columns.items():
            if isinstance(spec.dtype, tuple):
                dtype = "category: " + ", ".join(f"`{c}`" for c in spec.dtype)
            else:
                dtype = f"`{spec.dtype}`"
            rows.append([f"`{column}`", dtype, spec.unit, spec.doc])
        out += [_table(["Column", "dtype", "Unit", "Meaning"], rows), ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------- CLI
@contextlib.contextmanager
def _columns(width: int) -> Iterator[None]:
    """Temporarily set the terminal width that argparse reads from ``COLUMNS``."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def _subcommands(
    parser: argparse.ArgumentParser, depth: int = 0
) -> Iterator[tuple[int, argparse.ArgumentParser]]:
    """Yield (depth, parser) for a parser and every parser below it, in registration order."""
    yield depth, parser
    seen: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if id(child) not in seen:
                    seen.add(id(child))
                    yield from _subcommands(child, depth + 1)


def cli_markdown() -> str:
    """Return the ``--help`` of ``boneflare`` and of each of its subcommands."""
    from boneflare.benchmarks.cli import build_parser

    out = []
    with _columns(HELP_WIDTH):
        for depth, parser in _subcommands(build_parser()):
            heading = "#" * min(2 + max(depth - 1, 0), 4)
            out += [f"{heading} `{parser.prog}`", "", "```text", parser.format_help().rstrip()]
            out += ["```", ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------- API
def discover_modules() -> tuple[list[str], list[tuple[str, str]]]:
    """Find the public modules of :data:`PACKAGES` and import each one.

    Returns
    -------
    modules : list of str
        Dotted names of the modules that import, sorted, packages first within a tree.
    errors : list of (str, str)
        Modules that exist but fail to import, with the error. They are reported, never
        silently dropped.

    """
    modules: list[str] = []
    errors: list[tuple[str, str]] = []

    def public(name: str) -> bool:
        excluded = any(name == e or name.startswith(e + ".") for e in EXCLUDED_MODULES)
        return not excluded and not any(part.startswith("_") for part in name.split("."))

    def record_error(name: str) -> None:
        exc = sys.exc_info()[1]
        errors.append((name, f"{type(exc).__name__}: {exc}"))

    for package in PACKAGES:
        try:
            root = importlib.import_module(package)
        except Exception:
            record_error(package)
            continue
        modules.append(package)
        for info in pkgutil.walk_packages(root.__path__, package + ".", onerror=record_error):
            if not public(info.name):
                continue
            try:
                importlib.import_module(info.name)
            except Exception:
                record_error(info.name)
                continue
            modules.append(info.name)
    return sorted(set(modules)), errors


def module_members(name: str) -> tuple[list[str], list[str], list[str]]:
    """Return the documented public data, classes and functions of module ``name``.

    Members are those defined in the module itself (re-exports are documented where
    they are defined), restricted to ``__all__`` when the module has one; data are the
    module-level names that carry a docstring. Each list is in source order.
    """
    from sphinx.pycode import ModuleAnalyzer

    module = importlib.import_module(name)
    allowed = getattr(module, "__all__", None)

    def wanted(member: str) -> bool:
        return not member.startswith("_") if allowed is None else member in allowed

    try:
        analyzer = ModuleAnalyzer.for_module(name)
        attr_docs = analyzer.find_attr_docs()
        order = analyzer.tagorder
    except Exception:  # a module without source (never the case here) has no data docs
        attr_docs, order = {}, {}
    data = [n for (scope, n) in attr_docs if scope == "" and wanted(n)]
    data.sort(key=lambda n: order.get(n, 0))
    classes, functions = [], []
    for member, obj in vars(module).items():
        if not wanted(member) or getattr(obj, "__module__", None) != name:
            continue
        if inspect.isclass(obj):
            classes.append(member)
        elif inspect.isfunction(obj):
            functions.append(member)

    def line(member: str) -> int:
        try:
            return inspect.getsourcelines(getattr(module, member))[1]
        except (OSError, TypeError):
            return 0

    return data, sorted(classes, key=line), sorted(functions, key=line)


def module_stub(name: str) -> str:
    """Return the reStructuredText page of one module: docstring, summary, every member."""
    module = importlib.import_module(name)
    data, classes, functions = module_members(name)
    title = f"``{name}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {name}", ""]
    lines += [f".. currentmodule:: {name}", ""]
    members = classes + functions
    if members:
        rows = [(f":py:obj:`{m}`", first_sentence(getattr(module, m).__doc__)) for m in members]
        lines += [".. rubric:: Contents", "", *rst_summary_table(rows)]
    for member in data:
        lines += [f".. autodata:: {member}", ""]
    for member in classes:
        lines += [f".. autoclass:: {member}", "   :members:", "   :show-inheritance:", ""]
    for member in functions:
        lines += [f".. autofunction:: {member}", ""]
    return "\n".join(lines)


def api_markdown(modules: list[str], folder: str = "api/generated") -> str:
    """Return the API index: per package, a table of its modules with their summaries."""
    out = []
    for package in PACKAGES:
        nested = package != "boneflare"  # the root's subpackages have sections of their own
        tree = [m for m in modules if m == package or (nested and m.startswith(package + "."))]
        if not tree:
            continue
        root = importlib.import_module(package)
        rows = [
            (f":doc:`{m} <{folder}/{m}>`", first_sentence(importlib.import_module(m).__doc__))
            for m in tree
        ]
        out += [f"## `{package}`", "", _first_line(root.__doc__), ""]
        out += ["```{eval-rst}", *rst_summary_table(rows), "```", ""]
        out += ["```{toctree}", ":hidden:", "", *[f"{folder}/{m}" for m in tree], "```", ""]
    return "\n".join(out)


GENERATORS = {
    "scenarios": scenarios_markdown,
    "tables": tables_markdown,
    "cli": cli_markdown,
    "api": lambda: api_markdown(discover_modules()[0]),
}
"""Generated blocks by name, as used in ``<!-- boneflare:generate NAME -->`` markers."""


COMMITTED = {"tables": "tables.md", "scenarios": "scenarios.md"}
"""Generated blocks also written into the committed pages, so that the pages read
complete in the repository, before any build (``python docs/_ext/refgen.py --write``;
``tests/test_docs_reference.py`` fails when one is stale). The CLI and API blocks are
left to the build: their text depends on the Python version."""

GENERATED_NOTE = (
    "<!-- generated from the code by `python docs/_ext/refgen.py --write`: do not edit -->"
)
"""First line of a committed generated block."""


def with_block(text: str, name: str) -> str:
    """Return a page's text with the block of ``<!-- boneflare:generate NAME -->`` refreshed.

    Raises
    ------
    ValueError
        If the page has no such marker followed by ``<!-- boneflare:end -->``.
    """
    pattern = re.compile(
        rf"(^<!-- boneflare:generate {name} -->[ \t]*\n)(?:.*\n)*?(<!-- boneflare:end -->)",
        re.M,
    )
    if not pattern.search(text):
        raise ValueError(f"no generate block {name!r} ending in <!-- boneflare:end -->")
    block = f"{GENERATED_NOTE}\n\n{GENERATORS[name]().strip()}\n\n"
    return pattern.sub(lambda m: m.group(1) + block + m.group(2), text, count=1)


def write_committed(docs: str | os.PathLike) -> list[str]:
    """Refresh every page of :data:`COMMITTED` under ``docs``; return those that changed."""
    changed = []
    for name, page in COMMITTED.items():
        path = os.path.join(docs, page)
        with open(path, encoding="utf-8") as f:
            old = f.read()
        new = with_block(old, name)
        if new != old:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            changed.append(page)
    return changed


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        print("\n".join(f"wrote docs/{p}" for p in write_committed(here)) or "up to date")
        sys.exit(0)
    if len(sys.argv) != 2 or sys.argv[1] not in GENERATORS:
        sys.exit(f"usage: python docs/_ext/refgen.py {{{','.join(GENERATORS)}}} | --write")
    print(GENERATORS[sys.argv[1]]())
