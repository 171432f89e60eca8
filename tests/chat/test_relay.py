"""The relay's message format: the broadcasts of one loop iteration travel in one Redis
message, and every one of them comes out, in order, whatever bytes its packet holds."""

from escala.chat.relay import pack, unpack


def test_a_batch_of_broadcasts_comes_out_whole_and_in_order() -> None:
    broadcasts = [
        ("lobby", "sid-a", b'42["new message",{"message":"one"}]'),
        ("room\nwith newline", None, b"packet\nwith\nnewlines"),
        ("lobby", None, b""),
    ]
    origin = b"0123456789abcdef"
    data = origin + b"\n" + b"".join(pack(*b) for b in broadcasts)

    assert list(unpack(data, len(origin) + 1)) == broadcasts
