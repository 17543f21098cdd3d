"""Sphinx glue for boneflare's documentation: generated pages and a toctree of what exists.

* A line ``<!-- boneflare:generate NAME -->`` in a page is replaced, when the page is
  read, by the Markdown of :data:`refgen.GENERATORS` ``[NAME]`` (scenarios, tables, CLI,
  API), together with any placeholder text up to a line ``<!-- boneflare:end -->``.
  Generated pages are re-read on every build, so they follow the code.
* A line ``<!-- boneflare:toctree -->`` (in ``index.md``) becomes the site's toctrees,
  listing the pages of :data:`SECTIONS` that exist, then any other top-level page.
  Pages that other people are still writing appear as soon as their file does.
* Links into ``plugin_example/`` (an example package, excluded from the site) become
  the link text and the path.
* The role ``{optdoc}`Title <page>``` links to a page if it exists and otherwise
  shows the title as plain text, so pages can point at optional pages safely.
* The API reference's per-module pages are written to ``api/generated/`` when the
  build starts from the modules that import; one that exists but fails to import is
  left out with a message (and fails ``tests/test_docs_api.py``).
  Methods that other libraries attach to our classes (scikit-learn's
  ``set_*_request``) are left out.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

import refgen

logger = logging.getLogger(__name__)

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Getting started", ("overview", "quickstart", "auto_examples/index")),
    (
        "User guide",
        (
            "model",
            "scenarios",
            "benchmarks",
            "classifiers",
            "results",
            "reproducibility",
            "performance",
            "limitations",
        ),
    ),
    ("Reference", ("tables", "cli", "api", "design")),
)
"""Pages of the site, in order, by toctree caption. A page whose file is absent is skipped."""

OUTSIDE_LINK = re.compile(
    r"\[(?P<text>[^\]\n]+)\]\((?:\./)?(?P<target>plugin_example(?:/[^)\s]*)?)\)"
)
"""A Markdown link into ``plugin_example/``, which is an installable package, not pages.

Such links work when the Markdown is read on GitHub; in the built site they become the
link text followed by the path, since the folder is not part of the site.
"""

API_STUBS = "api/generated"
"""Folder (inside the documentation source) of the generated per-module API pages."""

MARKER = re.compile(
    r"^<!-- boneflare:(generate (?P<name>\w+)|toctree) -->[ \t]*$"
    r"(?:\n(?:(?!<!-- boneflare:).*\n)*?<!-- boneflare:end -->[ \t]*$)?",
    re.M,
)
"""A marker line, optionally followed by text up to ``<!-- boneflare:end -->``.

The enclosed text (say, how to print the generated block without building) is what a
reader of the Markdown file sees, on GitHub for instance; the build replaces it.
"""


def _depends_on_other_pages(path: Path) -> bool:
    """Whether a page has generated content or links that depend on which pages exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return MARKER.search(text) is not None or "{optdoc}" in text


def _is_orphan(path: Path) -> bool:
    """Whether a page declares itself orphan (front matter ``orphan: true`` or ``:orphan:``)."""
    try:
        head = path.read_text(encoding="utf-8")[:500]
    except OSError:
        return False
    return bool(re.search(r"^(orphan:\s*true|:orphan:)\s*$", head, re.M))


def toctree_markdown(found_docs: set[str], srcdir: Path, suffix: str = ".md") -> str:
    """Return MyST toctrees of the existing pages of :data:`SECTIONS`, then the others."""
    known = {page for _, pages in SECTIONS for page in pages}
    out = []
    for caption, pages in SECTIONS:
        present = [p for p in pages if p in found_docs]
        if present:
            out += ["```{toctree}", ":maxdepth: 1", f":caption: {caption}", "", *present, "```"]
            out.append("")
    others = sorted(
        d
        for d in found_docs
        if "/" not in d
        and d != "index"
        and d not in known
        and not _is_orphan(srcdir / f"{d}{suffix}")
    )
    if others:
        out += ["```{toctree}", ":maxdepth: 1", ":caption: More", "", *others, "```", ""]
    return "\n".join(out)


def _write_api_stubs(app: Sphinx) -> None:
    """Write one page per public module into ``api/generated`` (stale pages removed)."""
    modules, errors = refgen.discover_modules()
    for name, error in errors:
        # Not a build warning: a module still being written must not block the site.
        # tests/test_docs_api.py fails on it, so the error is never hidden.
        logger.info("API reference: leaving out %s, which does not import: %s", name, error)
    folder = Path(app.srcdir) / API_STUBS
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f"{m}.rst": refgen.module_stub(m) for m in modules}
    for path in folder.glob("*.rst"):
        if path.name not in wanted:
            path.unlink()
    for filename, text in wanted.items():
        path = folder / filename
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    app.env.boneflare_api_modules = modules  # type: ignore[attr-defined]


def _generated_block(app: Sphinx, name: str, docname: str) -> str:
    if name == "api":
        return refgen.api_markdown(getattr(app.env, "boneflare_api_modules", []))
    if name not in refgen.GENERATORS:
        logger.warning("%s: unknown generated block %r", docname, name, location=docname)
        return ""
    return refgen.GENERATORS[name]()


def _source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    """Replace the markers of a page with generated Markdown; unlink ``plugin_example/``."""

    def replace(match: re.Match) -> str:
        if match.group("name"):
            return _generated_block(app, match.group("name"), docname)
        return toctree_markdown(set(app.env.found_docs), Path(app.srcdir))

    source[0] = MARKER.sub(replace, source[0])
    source[0] = OUTSIDE_LINK.sub(lambda m: f"{m['text']} (`docs/{m['target']}`)", source[0])


def _always_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Re-read pages with generated content or optional links on every build.

    The code, or the set of pages, may have changed without the page's own file.
    """
    fresh = set(added) | set(changed)
    return [
        d
        for d in env.found_docs
        if "/" not in d and d not in fresh and _depends_on_other_pages(Path(env.doc2path(d)))
    ]


def _optdoc_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{optdoc}`Title <page>```: a link when the page exists, else the title as text."""
    match = re.fullmatch(r"\s*(?P<title>.*?)\s*<(?P<page>[^>]+)>\s*", text)
    title, page = (match["title"], match["page"]) if match else (text, text)
    env = inliner.document.settings.env
    if page.lstrip("/") in env.found_docs:
        doc_role = env.get_domain("std").role("doc")
        return doc_role("doc", rawtext, text, lineno, inliner, options or {}, content or [])
    return [nodes.emphasis(rawtext, title)], []


def _skip_foreign(app: Sphinx, what, name, obj, skip, options):
    """Leave out methods that other libraries attach to our classes.

    scikit-learn's ``BaseEstimator`` adds ``set_*_request`` methods to every subclass;
    their docstrings refer to scikit-learn's own glossary and belong to its documentation.
    """
    module = getattr(obj, "__module__", None) or ""
    if callable(obj) and module and module.split(".")[0] != "boneflare":
        return True
    return None


def setup(app: Sphinx) -> dict:
    """Register the hooks (called by Sphinx)."""
    app.connect("builder-inited", _write_api_stubs)
    app.connect("source-read", _source_read)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("autodoc-skip-member", _skip_foreign)
    app.add_role("optdoc", _optdoc_role)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
