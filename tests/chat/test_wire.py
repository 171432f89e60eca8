"""The server's Engine.IO v4 / Socket.IO v5 codec, against the protocols' own examples."""

import orjson
import pytest

from escala.chat import wire


def test_open_packet_offers_the_upgrade_and_the_heartbeat() -> None:
    frame = wire.open_packet("abc", ["websocket"], 25000, 20000, 1_000_000)
    assert frame[:1] == b"0"
    assert orjson.loads(frame[1:]) == {
        "sid": "abc",
        "upgrades": ["websocket"],
        "pingInterval": 25000,
        "pingTimeout": 20000,
        "maxPayload": 1_000_000,
    }


def test_connect_with_auth_and_without() -> None:
    assert wire.parse(b"0") == wire.Packet(wire.SIO_CONNECT)
    assert wire.parse(b'0{"serverOffset":3}').data == {"serverOffset": 3}
    assert wire.connect_reply("s1") == b'40{"sid":"s1"}'


def test_event_with_and_without_ack_id() -> None:
    plain = wire.parse(b'2["new message","hola"]')
    assert (plain.kind, plain.ack, plain.data) == (wire.SIO_EVENT, None, ["new message", "hola"])
    acked = wire.parse(b'212["chat message","hi","c-1"]')
    assert (acked.ack, acked.data) == (12, ["chat message", "hi", "c-1"])


def test_other_namespace_is_parsed_and_refused_by_name() -> None:
    packet = wire.parse(b"0/admin,")
    assert packet.namespace == "/admin"
    assert wire.connect_error("/admin", "Invalid namespace") == (
        b'44/admin,{"message":"Invalid namespace"}'
    )


def test_broadcast_frame_carries_one_or_several_arguments() -> None:
    assert wire.event("login", {"numUsers": 2}) == b'42["login",{"numUsers":2}]'
    assert wire.event("chat message", ("hi", 7)) == b'42["chat message","hi",7]'


def test_ack_arguments_follow_python_socketio() -> None:
    assert wire.ack(3, None) == b"433[]"
    assert wire.ack(3, {"id": 1}) == b'433[{"id":1}]'
    assert wire.ack(3, ("a", 1)) == b'433["a",1]'


def test_escaped_lone_surrogate_reaches_the_chat_rules() -> None:
    # valid JSON that orjson refuses; the chat rejects the text itself, with a message
    assert wire.parse(b'2["add user","\\ud800"]').data == ["add user", "\ud800"]


@pytest.mark.parametrize("payload", [b"", b"5", b"2not json", b"2{}", b"2[1]", b"2[]", b"0{broken"])
def test_malformed_packets_are_refused(payload: bytes) -> None:
    with pytest.raises(wire.BadPacket):
        wire.parse(payload)


@pytest.mark.parametrize("size, header", [(5, b"\x81\x05"), (300, b"\x81\x7e\x01\x2c")])
def test_text_frame_header_carries_the_length(size: int, header: bytes) -> None:
    payload = b"x" * size
    assert wire.text_frame(payload) == header + payload


def test_text_frame_uses_the_64_bit_length_above_64_kib() -> None:
    frame = wire.text_frame(b"y" * 70_000)
    assert frame[:2] == b"\x81\x7f" and int.from_bytes(frame[2:10], "big") == 70_000


def test_polling_payload_splits_on_the_record_separator_and_decodes_binary() -> None:
    # The protocol's own example: "4hello\x1e4world", and binary as "b" + base64.
    assert wire.decode_payload(b"4hello\x1e4world\x1ebAQIDBA==") == [
        b"4hello",
        b"4world",
        bytearray(b"\x01\x02\x03\x04"),
    ]
    assert wire.encode_payload([b"4hello", b"2"]) == b"4hello\x1e2"


@pytest.mark.parametrize("body", [b"", b"4hi\x1e", b"abc", b"9x", b"b!!notbase64"])
def test_malformed_polling_payloads_are_refused(body: bytes) -> None:
    with pytest.raises(wire.BadPacket):
        wire.decode_payload(body)


def test_binary_event_gets_its_attachments_in_place_of_the_placeholders() -> None:
    packet = wire.parse(b'51-7["upload",{"_placeholder":true,"num":0},"name"]')
    assert (packet.kind, packet.attachments, packet.ack) == (wire.SIO_BINARY_EVENT, 1, 7)
    whole = wire.with_attachments(packet, [b"\x00\x01"])
    assert (whole.kind, whole.ack, whole.data) == (
        wire.SIO_EVENT,
        7,
        ["upload", b"\x00\x01", "name"],
    )


@pytest.mark.parametrize("payload", [b'5["x"]', b'5a-["x"]', b'5-["x"]'])
def test_binary_packet_without_attachment_count_is_refused(payload: bytes) -> None:
    with pytest.raises(wire.BadPacket):
        wire.parse(payload)


def test_placeholder_without_attachment_is_refused() -> None:
    packet = wire.parse(b'51-["upload",{"_placeholder":true,"num":3}]')
    with pytest.raises(wire.BadPacket):
        wire.with_attachments(packet, [b"x"])
