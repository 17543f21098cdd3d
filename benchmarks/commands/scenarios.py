"""``boneflare scenarios list|show``: the shipped presets and a scenario as resolved."""

from __future__ import annotations

import argparse

from boneflare.benchmarks.commands.common import add_scenario_options
from boneflare.simulator.scenarios import dumps_toml, load_scenario, preset_names, scenario_hash


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenarios`` subcommand."""
    parser = sub.add_parser("scenarios", help="list presets or show one resolved")
    inner = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    listing = inner.add_parser("list", help="list the shipped presets")
    listing.set_defaults(run=run_list)
    show = inner.add_parser("show", help="print a scenario with every parameter resolved")
    show.add_argument("name", nargs="?", default=None, help="preset name or .toml path")
    add_scenario_options(show)
    show.set_defaults(run=run_show)


def run_list(args: argparse.Namespace) -> int:
    """Print one line per preset: name and description."""
    names = preset_names()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name.ljust(width)}  {load_scenario(name).description}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the resolved scenario as TOML, with its hash."""
    scenario = load_scenario(args.name or args.scenario, args.overrides)
    print(f"# scenario hash {scenario_hash(scenario)}")
    print(dumps_toml(scenario), end="")
    return 0
