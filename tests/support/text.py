"""Human output read as values: a table's rows as lists of cells, so a test asserts what a row
says and not how wide its columns are today."""

from __future__ import annotations

import re

# Columns are padded with two or more spaces; one space stays inside a cell ("JWT (Cognito)").
COLUMN_GAP = re.compile(r" {2,}")


def cells(line: str) -> list[str]:
    """The cells of one padded line: ``"GET     /a/{id}  public"`` -> ``["GET", "/a/{id}", "public"]``."""
    return [cell for cell in COLUMN_GAP.split(line.strip()) if cell]


def table(text: str) -> list[list[str]]:
    """The cells of every non-blank line of ``text``."""
    return [cells(line) for line in text.splitlines() if line.strip()]
