"""``boneflare classifiers list|check`` in process: the nine built-ins, exit statuses."""

from __future__ import annotations

from helpers import BUILT_IN_CLASSIFIERS

from boneflare.benchmarks.cli import main
from boneflare.classifiers import registry

BUILT_INS = BUILT_IN_CLASSIFIERS


def test_list_shows_the_nine_with_one_line_each(capsys):
    assert main(["classifiers", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in BUILT_INS:
        (line,) = [x for x in lines if x.split()[0] == name]
        assert line.rstrip().endswith(registry.get(name).description)


def test_check_passes_for_named_built_ins(capsys):
    assert main(["classifiers", "check", "recist_naive", "timing_window"]) == 0
    out = capsys.readouterr().out
    assert "recist_naive: ok" in out and "timing_window: ok" in out


def test_check_verbose_lists_every_check(capsys):
    from boneflare.benchmarks.conformance import all_checks

    assert main(["classifiers", "check", "-v", "alp_trend"]) == 0
    out = capsys.readouterr().out
    assert all(f"ok     {c.__name__}" in out for c in all_checks())


def test_unknown_name_is_one_line_and_status_two(capsys):
    assert main(["classifiers", "check", "recist_naive", "no_such_rule"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was checked: names are resolved first
    assert captured.err.count("\n") == 1 and "no_such_rule" in captured.err
