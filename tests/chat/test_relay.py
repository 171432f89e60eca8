"""The relay's message format: the broadcasts of one loop iteration travel in one Redis
message, and every one of them comes out, in order, whatever bytes its packet holds."""

from escala.chat.relay import pack, runs, unpack


def test_a_batch_of_broadcasts_comes_out_whole_and_in_order() -> None:
    broadcasts = [
        ("lobby", "sid-a", b'42["new message",{"message":"one"}]'),
        ("room\nwith newline", None, b"packet\nwith\nnewlines"),
        ("lobby", None, b""),
    ]
    origin = b"0123456789abcdef"
    data = origin + b"\n" + b"".join(pack(*b) for b in broadcasts)

    assert list(unpack(data, len(origin) + 1)) == broadcasts


def test_only_consecutive_broadcasts_to_one_room_share_a_run() -> None:
    """A member of two rooms gets the packets in the order they were sent."""
    broadcasts = [
        ("lobby", "sid-a", b"1"),
        ("lobby", None, b"2"),
        ("dev", "sid-b", b"3"),
        ("lobby", None, b"4"),
    ]
    assert list(runs(iter(broadcasts))) == [
        ("lobby", [("sid-a", b"1"), (None, b"2")]),
        ("dev", [("sid-b", b"3")]),
        ("lobby", [(None, b"4")]),
    ]
