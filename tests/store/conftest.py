"""Fixtures shared by the store tests: real log folders made in a temporary folder."""

from tests.store.test_store import estate, node  # noqa: F401
