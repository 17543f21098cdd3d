"""Classifier specs as text: ``name``, ``package.module:Class``, each with ``[param=value,...]``.

The command line names the classifiers of a run in one string, e.g.::

    timing_window[window_days=60],timing_window,my_rules:EarlyAlp[drop_pct=15]

* ``name`` is a registered classifier (entry-point group ``boneflare.classifiers``);
* ``package.module:Class`` is any :class:`~boneflare.classifiers.base.FlareClassifier`
  subclass importable from the working directory or ``PYTHONPATH``, installed or not;
* ``[param=value,...]`` sets parameters of ``__init__``; each value is a TOML literal
  (``60``, ``0.5``, ``true``, ``"text"``, ``[1, 2]``).

An unknown parameter or a value of the wrong kind is refused with a message naming it.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from boneflare.classifiers.base import FlareClassifier
from boneflare.classifiers.registry import get as get_classifier
from boneflare.simulator.errors import ClassifierSpecError


@dataclass(frozen=True)
class ParsedSpec:
    """A classifier spec split into its target and its parameters.

    Attributes
    ----------
    target : str
        A registered name, or ``package.module:Class``.
    params : dict
        Parameter values, in the order given.

    """

    target: str
    params: dict[str, Any]

    @property
    def is_import_path(self) -> bool:
        """Whether the target is ``package.module:Class`` rather than a registered name."""
        return ":" in self.target


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of specs, ignoring commas inside brackets or quotes.

    Examples
    --------
    >>> split_specs("a[x=1,y=[2, 3]], b")
    ['a[x=1,y=[2, 3]]', 'b']

    """
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def literal(text: str, param: str) -> Any:
    """Parse a parameter value written as a TOML literal.

    Raises
    ------
    ClassifierSpecError
        If ``text`` is not a TOML value (the message names ``param``).

    """
    try:
        return tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        raise ClassifierSpecError(
            f"parameter {param!r}: {text.strip()!r} is not a TOML value "
            '(e.g. 60, 0.5, true, "text", [1, 2])'
        ) from None


def parse_spec(text: str) -> ParsedSpec:
    """Parse one spec, ``target`` or ``target[param=value,...]``.

    Raises
    ------
    ClassifierSpecError
        On an empty target, unbalanced brackets, an item without ``=``, a repeated
        parameter or a value that is not a TOML literal.

    """
    text = text.strip()
    target, bracket, rest = text.partition("[")
    target = target.strip()
    if not target:
        raise ClassifierSpecError(f"classifier spec {text!r} names no classifier")
    params: dict[str, Any] = {}
    if bracket:
        if not rest.endswith("]"):
            raise ClassifierSpecError(f"classifier spec {text!r}: parameters must end with ']'")
        for item in split_specs(rest[:-1]):
            key, equals, value = item.partition("=")
            key = key.strip()
            if not equals or not key.isidentifier():
                raise ClassifierSpecError(
                    f"classifier spec {text!r}: {item!r} must look like param=value"
                )
            if key in params:
                raise ClassifierSpecError(f"classifier spec {text!r}: parameter {key!r} twice")
            params[key] = literal(value, key)
    return ParsedSpec(target, params)


def import_class(path: str) -> type[FlareClassifier]:
    """Import ``package.module:Class`` (the working directory is searched too).

    Raises
    ------
    ClassifierSpecError
        If the module cannot be imported, has no such attribute, or it is not a
        FlareClassifier subclass.

    """
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise ClassifierSpecError(f"classifier {path!r} must look like package.module:Class")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())  # as ``python -m`` does, but after installed packages
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module: any error is theirs to read
        raise ClassifierSpecError(
            f"classifier {path!r}: cannot import {module_name!r} "
            f"({type(exc).__name__}: {exc}); is it in the working directory or on PYTHONPATH?"
        ) from None
    value: Any = module
    for part in qualname.split("."):
        value = getattr(value, part, None)
    if value is None:
        raise ClassifierSpecError(f"classifier {path!r}: {module_name!r} has no {qualname!r}")
    if not (inspect.isclass(value) and issubclass(value, FlareClassifier)):
        raise ClassifierSpecError(f"classifier {path!r} is not a FlareClassifier subclass")
    return value


def _signature(cls: type[FlareClassifier]) -> dict[str, Any]:
    """The parameters of ``cls.__init__`` and their defaults (``Parameter.empty``: none)."""
    parameters = inspect.signature(cls.__init__).parameters
    return {name: parameters[name].default for name in cls._get_param_names()}


def _same_kind(default: Any, value: Any) -> bool:
    """Whether ``value`` may replace ``default`` (None and non-plain defaults accept anything)."""
    if default is None or default is inspect.Parameter.empty:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return True


def instantiate(cls: type[FlareClassifier], params: Mapping[str, Any], who: str) -> FlareClassifier:
    """Create ``cls(**params)`` after checking every name and the kind of every value.

    Raises
    ------
    ClassifierSpecError
        Naming the parameter that ``cls`` does not take, or whose value is of another
        kind than its default (a number for a number, text for text, ...).

    """
    defaults = _signature(cls)
    for key, value in params.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise ClassifierSpecError(
                f"classifier {who!r} has no parameter {key!r} (its parameters: {known})"
            )
        if not _same_kind(defaults[key], value):
            raise ClassifierSpecError(
                f"classifier {who!r}: parameter {key!r} = {value!r} is not of the kind of "
                f"its default {defaults[key]!r}"
            )
    try:
        instance = cls(**params)
        if hasattr(instance, "_parameter_constraints"):
            instance._validate_params()
    except Exception as exc:  # an __init__ that checks its own arguments
        raise ClassifierSpecError(f"classifier {who!r}: bad parameters ({exc})") from None
    return instance


def non_default_params(instance: FlareClassifier) -> dict[str, Any]:
    """The parameters of an instance that differ from its class's defaults, in order."""
    defaults = _signature(type(instance))
    params = instance.get_params(deep=False)
    out = {}
    for key, default in defaults.items():
        value = params.get(key)
        if value is default:
            continue
        plain = (type(None), bool, int, float, str, list, tuple)
        if isinstance(value, plain) and isinstance(default, plain) and value == default:
            continue
        out[key] = value
    return out


def format_value(value: Any) -> str:
    """Show a parameter value in a label: a TOML literal when plain, else its type's name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if value is None:
        return "none"
    return type(value).__name__


def label_of(base: str, params: Mapping[str, Any]) -> str:
    """The label of a classifier with parameters: ``base[param=value,...]``, or ``base``.

    Examples
    --------
    >>> label_of("timing_window", {"window_days": 60})
    'timing_window[window_days=60]'

    """
    if not params:
        return base
    return base + "[" + ",".join(f"{k}={format_value(v)}" for k, v in params.items()) + "]"


def class_of(parsed: ParsedSpec) -> type[FlareClassifier]:
    """The class a parsed spec names: imported, or looked up in the registry."""
    if parsed.is_import_path:
        return import_class(parsed.target)
    return get_classifier(parsed.target)
