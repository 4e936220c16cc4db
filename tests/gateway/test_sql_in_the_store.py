"""SQL lives in gateway/store/ only: the rest of the gateway goes through its repositories.

So that one back end can be swapped for another (SQLite, PostgreSQL) by changing the store,
and a reader finds every statement a table is touched by in one package.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"

# Statements as the code writes them (keywords in capitals): a verb and the clause after it.
STATEMENT = re.compile(
    r"\bSELECT\b[\s\S]+?\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b|\bSAVEPOINT\b|\bPRAGMA\b"
)
EXEMPT = {
    # The schema's DDL until it moves into the store's versioned migrations (issue 12).
    "resources/schema.py",
    # The SQLite back end's WAL checkpoints, on a connection of their own.
    "checkpointer.py",
}


def _outside_the_store() -> list[Path]:
    return sorted(
        p
        for p in GATEWAY.rglob("*.py")
        if p.relative_to(GATEWAY).parts[0] != "store"
        and p.relative_to(GATEWAY).as_posix() not in EXEMPT
    )


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string constant, and every f-string's fixed text, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else " x " for v in node.values)
            found.append((node.lineno, text))
    return found


def _offences(text: str, where: str) -> list[str]:
    tree = ast.parse(text)
    found = [
        f"{where}:{line}: {sql.strip()[:70]!r}"
        for line, sql in _strings(tree)
        if STATEMENT.search(sql)
    ]
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [
            f"{where}:{node.lineno}: imports {n}"
            for n in names
            if n.split(".")[0] in ("sqlite3", "psycopg", "asyncpg")
        ]
    return found


def test_no_module_outside_the_store_holds_sql_or_a_database_driver() -> None:
    offences = [
        o
        for p in _outside_the_store()
        for o in _offences(p.read_text(encoding="utf-8"), p.relative_to(GATEWAY).as_posix())
    ]
    assert offences == [], "SQL outside gateway/store/:\n" + "\n".join(offences)


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute("SELECT id FROM operators")',
        'sql = f"UPDATE {table} SET location=? WHERE id=?"',
        'conn.execute("INSERT OR IGNORE INTO categories VALUES (1)")',
        'conn.execute("DELETE FROM customer_categories WHERE customer_id=?")',
        'conn.execute("SAVEPOINT counter")',
        "import sqlite3",
        "from psycopg import AsyncConnection",
    ],
)
def test_the_check_finds_each_kind_of_statement(source: str) -> None:
    assert len(_offences(source, "probe.py")) == 1


def test_prose_that_names_a_statement_is_no_offence() -> None:
    text = '"""Taking a number is one ``UPDATE … WHERE <available>``; select from the list."""'
    assert _offences(text, "probe.py") == []
