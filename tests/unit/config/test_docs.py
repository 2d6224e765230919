"""The README's configuration table is generated from the settings table (config/docs.py)."""

from __future__ import annotations

from pathlib import Path

from otel_chatbot.config.docs import END, START, markdown_table

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_configuration_table_is_generated_from_the_table() -> None:
    text = README.read_text()
    block = text.split(START, 1)[1].split(END, 1)[0]
    assert block.strip() == markdown_table().strip(), "run: python -m otel_chatbot.config.docs --write README.md"
