"""Statements as the ORM writes them, run prepared (``ocop.rows.execute``,
docs/performance.md): each connection prepares a text once and then only executes it, keeps
a bounded number of them, reads the ORM's placeholders and literal ``%`` right, and runs the
text as it is when the setting is off (a pooler in transaction mode)."""

import pytest
from django.db import connection

from ocop import rows

pytestmark = pytest.mark.django_db


def prepared():
    """The texts this connection has prepared through ``execute``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements "
                       "WHERE name LIKE 'ocop_q_%%'")
        return [row[0] for row in cursor.fetchall()]


def run(sql, params):
    with connection.cursor() as cursor:
        rows.execute(cursor, sql, params)
        return cursor.fetchall()


def test_a_text_is_prepared_once_and_executed_with_each_call_s_values(
        django_assert_num_queries):
    sql = "SELECT %s::int + %s::int, 'a%%b' LIKE %s"
    with django_assert_num_queries(1):  # the PREPARE is not a query of the caller
        assert run(sql, [1, 2, "a%"]) == [(3, True)]
    assert run(sql, [40, 2, "x%"]) == [(42, False)]
    # prepared once (the connection may hold other texts from earlier tests)
    mine = [text for text in prepared() if "$1::int + $2::int, 'a%b' LIKE $3" in text]
    assert len(mine) == 1


def test_a_text_without_parameters_runs_too():
    assert run("SELECT 7", []) == [(7,)]


def test_a_connection_keeps_a_bounded_number_of_texts(monkeypatch):
    monkeypatch.setattr(rows, "_PREPARED_PER_CONNECTION", 3)
    for n in range(6):
        assert run(f"SELECT {n} + %s::int", [1]) == [(n + 1,)]
    texts = prepared()
    assert len(texts) <= 3
    assert any("SELECT 5 + $1::int" in text for text in texts)
    assert not any("SELECT 0 + $1::int" in text for text in texts)
    # a text dropped is prepared again when it comes back
    assert run("SELECT 0 + %s::int", [9]) == [(9,)]


def test_with_the_setting_off_the_text_runs_as_it_is(settings):
    settings.OCOP_PREPARED_STATEMENTS = False
    before = prepared()
    assert run("SELECT %s::int * 2 AS unprepared_marker", [21]) == [(42,)]
    assert prepared() == before
