"""Sphinx configuration of boneflare's documentation.

Build it as CI does (warnings are errors)::

    python -m pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))  # refgen, boneflare_sphinx
os.environ.setdefault("MPLBACKEND", "Agg")

from boneflare.simulator import __version__  # noqa: E402

project = "boneflare"
author = "the boneflare developers"
copyright = "2025, the boneflare developers"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "boneflare_sphinx",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "_templates",
    "_ext",
    "examples",  # gallery sources; sphinx-gallery renders them into auto_examples/
    "plugin_example/**",  # an installable example package, not pages
    "**/*.out",  # golden outputs of the gallery scripts
    "**/README.md",
    "Thumbs.db",
    ".DS_Store",
]
suppress_warnings = [
    "myst.header",  # a page may start its headings at any level
    # Docstring types such as "ndarray, shape (n, k)" become cross-references word by
    # word, and "n" names several properties; such words are not meant as links.
    "ref.python",
]

# -- MyST ----------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- API reference ---------------------------------------------------------------
# One page per public module is written by boneflare_sphinx into api/generated/.
# Docstrings are numpydoc style, read by napoleon; the classifier base classes use
# two extra sections, declared here so that nothing in them is dropped.
autodoc_typehints = "none"  # types are given in the docstring sections
autodoc_member_order = "bysource"
autodoc_default_options = {"exclude-members": "__init__, __new__"}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_custom_sections = [("Class attributes", "params_style"), "Hooks"]

# -- Example gallery --------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "abort_on_example_error": True,
    "write_computation_times": False,
    "capture_repr": (),
    "remove_config_comments": True,
    "show_signature": False,
}

# -- HTML --------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"boneflare {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
# Top-level pages have no sub-pages: no left sidebar. The API and the gallery keep
# theirs, which lists their pages. ("*" does not match across "/".)
html_sidebars = {
    "*": [],
    "api/**": ["sidebar-nav-bs"],
    "auto_examples/**": ["sidebar-nav-bs"],
}
