"""Markdown tables of the parameters, for docs/model.md (kept current by a test)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from boneflare.simulator.scenarios.params import ParamSpec, spec_of
from boneflare.simulator.scenarios.schema import Scenario

START, END = "<!-- parameter-table:start -->", "<!-- parameter-table:end -->"


def parameters(scenario: Scenario) -> list[tuple[str, object, ParamSpec]]:
    """Every parameter as (dotted name, value in ``scenario``, spec), in declaration order."""
    out: list[tuple[str, object, ParamSpec]] = []

    def walk(node: object, prefix: str) -> None:
        for f in dataclasses.fields(node):
            spec = spec_of(f)
            value = getattr(node, f.name)
            if spec is not None:
                out.append((prefix + f.name, value, spec))
            elif dataclasses.is_dataclass(value):
                walk(value, prefix + f.name + ".")

    walk(scenario, "")
    return out


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def parameter_table(scenario: Scenario) -> str:
    """Markdown table: parameter, value, unit, meaning, source."""
    lines = ["| parameter | value | unit | meaning | source |", "| --- | ---: | --- | --- | --- |"]
    for name, value, spec in parameters(scenario):
        unit = "" if spec.unit == "1" else spec.unit
        lines.append(f"| `{name}` | {_shown(value)} | {unit} | {spec.doc} | {spec.source} |")
    return "\n".join(lines)


def render_model_doc(text: str, scenario: Scenario) -> str:
    """Return docs/model.md text with the table between the markers replaced."""
    table = f"Values of the shipped `{scenario.name}` preset.\n\n" + parameter_table(scenario)
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{START}\n{table}\n{END}", text)


def update_model_doc(path: str | Path, scenario: Scenario) -> bool:
    """Rewrite the parameter table of a Markdown file; return whether it changed."""
    path = Path(path)
    old = path.read_text()
    new = render_model_doc(old, scenario)
    if new != old:
        path.write_text(new)
    return new != old


if __name__ == "__main__":
    from boneflare.simulator.scenarios.loader import load_scenario

    changed = update_model_doc(Path("docs/model.md"), load_scenario("paper"))
    print("docs/model.md updated" if changed else "docs/model.md already current")
