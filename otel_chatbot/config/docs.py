"""Render the settings table as the README's Markdown table.

``python -m otel_chatbot.config.docs`` prints it; ``--write README.md`` replaces the
block between the ``<!-- settings:start -->`` and ``<!-- settings:end -->`` markers.
"""

from __future__ import annotations

import sys
from pathlib import Path

from otel_chatbot.config.table import SETTINGS

START = "<!-- settings:start -->"
END = "<!-- settings:end -->"


def markdown_table() -> str:
    rows = ["| variable | `configure()` keyword | type | default | what it does |", "|---|---|---|---|---|"]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default else "(empty)"
        doc = setting.doc.replace("|", "\\|")
        rows.append(f"| `{setting.env}` | `{setting.name}` | {setting.type_name} | {default} | {doc} |")
    return "\n".join(rows) + "\n"


def replace_block(text: str) -> str:
    """Return ``text`` with the generated table between the markers."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"markers {START} and {END} not found")
    return f"{head}{START}\n{markdown_table()}{END}{tail}"


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--write":
        path = Path(argv[1])
        path.write_text(replace_block(path.read_text()))
        return 0
    sys.stdout.write(markdown_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
