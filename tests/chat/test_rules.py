"""The chat's rules, without a server."""

import pytest

from escala.chat import rules


def test_nickname_is_trimmed_and_bounded() -> None:
    limits = rules.Limits(max_nickname=5)
    assert rules.clean_nickname("  ana ", limits) == "ana"
    for bad in ("", "   ", None, 42, "abcdef"):
        with pytest.raises(rules.Rejected, match="username"):
            rules.clean_nickname(bad, limits)


def test_message_size_limit_names_the_limit() -> None:
    limits = rules.Limits(max_message=3)
    assert rules.clean_text("hey", limits) == "hey"
    with pytest.raises(rules.Rejected, match="at most 3"):
        rules.clean_text("hello", limits)
    with pytest.raises(rules.Rejected, match="message"):
        rules.clean_text({"x": 1}, limits)


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = rules.TokenBucket(rate=2, burst=3, stamp=0.0)
    assert [bucket.allow(now=0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.allow(now=0.5) is True
    assert bucket.allow(now=0.5) is False


def test_presence_counts_per_room() -> None:
    presence = rules.Presence()
    assert presence.join("a", "s1", "ana") == 1
    assert presence.join("a", "s2", "bo") == 2
    assert presence.join("b", "s3", "cy") == 1
    assert presence.users("a") == ["ana", "bo"]
    assert presence.leave("a", "s1") == 1
    assert presence.leave("b", "s3") == 0
    assert presence.count("b") == 0


def test_presence_finds_a_name_in_any_case_until_its_last_holder_leaves() -> None:
    presence = rules.Presence()
    presence.join("a", "s1", "Eve", "user:e")
    presence.join("a", "s2", "eve", "user:e")  # Eve's second tab
    assert presence.taken("a", "EVE", "sid:s3")
    assert not presence.taken("a", "eve", "user:e")
    assert not presence.taken("b", "eve", "sid:s3")
    presence.leave("a", "s1")
    assert presence.taken("a", "eve", "sid:s3")
    presence.join("a", "s2", "Mallory", "user:e")  # the second tab logs in again, renamed
    assert not presence.taken("a", "eve", "sid:s3")
    assert presence.owners("a", "mallory") == ["user:e"]
    assert presence.users("a") == ["Mallory"]
