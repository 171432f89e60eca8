"""Fixtures shared by the chat tests."""

from tests.chat.test_server import chat_url, server_kind  # noqa: F401  (fixtures, shared)
