"""MkDocs hooks: the reference pages that are generated from the code at build time.

A page holding ``<!-- generated: cli -->`` gets the ``genprobe`` command's reference, built from
:func:`genprobe.cli.build_parser` (every command, its usage and every option's help); one holding
``<!-- generated: pytest-options -->`` gets the table of the plugin's ``--genprobe-*`` options, built
from :func:`genprobe.plugin.hooks.pytest_addoption`. Built when the site is, so they cannot go stale;
``tests/test_docs_site.py`` checks that every command and option is on them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLI_MARK = "<!-- generated: cli -->"
OPTIONS_MARK = "<!-- generated: pytest-options -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    names = ", ".join(f"`{s}`" for s in action.option_strings)
    if action.nargs == 0:
        return names
    metavar = action.metavar or action.dest.upper()
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return f"{names} `{metavar}`"


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if "%(" in text:
        text = text % {**vars(action), "prog": "genprobe"}
    if action.choices and "choices" not in text:
        text += f" (choices: {', '.join(map(str, action.choices))})"
    return _cell(text)


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| option | what it does |", "| --- | --- |"]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
            continue
        rows.append(f"| {_flags(action)} | {_help(action)} |")
    return rows


def cli_reference() -> str:
    """The ``genprobe`` command's reference in Markdown, from its parser."""
    from genprobe.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps usage lines to the terminal: one width for every build
    try:
        parser = build_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        helps = {a.dest: a.help for a in sub._choices_actions}
        lines = [_cell(parser.description or ""), "", "| command | what it does |", "| --- | --- |"]
        lines += [f"| [`{name}`](#{name}) | {_cell(helps.get(name) or '')} |" for name in sub.choices]
        lines += ["", "Options of `genprobe` itself:", "", *_options_table(parser), ""]
        for name, command in sub.choices.items():
            lines += [f"## `genprobe {name}` {{#{name}}}", "", _cell(helps.get(name) or "")]
            if command.description and command.description != helps.get(name):
                lines += ["", _cell(command.description)]
            lines += ["", "```text", command.format_usage().strip(), "```", "", *_options_table(command)]
            if command.epilog:
                lines += ["", _cell(command.epilog)]
            lines.append("")
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(lines)


def pytest_options_reference() -> str:
    """The plugin's ``--genprobe-*`` options as a table (option, environment variable, help)."""
    import warnings

    from _pytest.config.argparsing import Parser

    from genprobe.plugin.hooks import pytest_addoption
    from genprobe.plugin.settings import _OPTIONS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pytest's Parser is private API: the one way to read the options back
        parser = Parser()
    pytest_addoption(parser)
    env = {f"--genprobe-{name}": var for name, (var, _) in _OPTIONS.items()}
    rows = ["| option | environment variable | what it does |", "| --- | --- | --- |"]
    for option in parser.getgroup("genprobe").options:
        (name,) = option.names()
        attrs = option.attrs()
        flag = attrs.get("nargs") == 0 or attrs.get("action") in ("store_true", "store_false")
        metavar = attrs.get("metavar") or str(attrs.get("dest", "value")).removeprefix("genprobe_").upper()
        value = "" if flag else f" `{metavar}`"
        text = attrs.get("help", "")
        var = env.get(name)
        if var and text.endswith(f"; env {var}"):
            text = text[: -len(f"; env {var}")]
        rows.append(f"| `{name}`{value} | {f'`{var}`' if var else ''} | {_cell(text)} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs' hook signature
    if CLI_MARK in markdown:
        markdown = markdown.replace(CLI_MARK, cli_reference())
    if OPTIONS_MARK in markdown:
        markdown = markdown.replace(OPTIONS_MARK, pytest_options_reference())
    return markdown
