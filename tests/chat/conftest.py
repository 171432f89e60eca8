"""Fixtures shared by the chat tests."""

from tests.chat.test_server import chat_url  # noqa: F401  (a fixture, shared)
