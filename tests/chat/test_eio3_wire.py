"""The Engine.IO v3 codec (`escala.chat.eio3`) on the payloads socket.io-client 2.x
sends, built here as engine.io-parser 2.x builds them."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escala.chat import eio3, wire


def text_payload(*packets: str) -> bytes:
    """engine.io-parser 2.x's encodePayload: `<length>:<packet>`, lengths in JS units."""
    return "".join(f"{len(p.encode('utf-16-le')) // 2}:{p}" for p in packets).encode()


def binary_payload(*packets: bytes | str) -> bytes:
    """engine.io-parser 2.x's encodePayloadAsArrayBuffer."""
    out = b""
    for p in packets:
        data = p.encode() if isinstance(p, str) else p
        digits = bytes(int(d) for d in str(len(data)))
        out += (b"\x00" if isinstance(p, str) else b"\x01") + digits + b"\xff" + data
    return out


def test_lengths_count_utf16_units_as_javascript_does() -> None:
    packets = [b"2", '42["m","é"]'.encode(), '42["m","😀"]'.encode()]
    assert eio3.encode_payload(packets) == text_payload("2", '42["m","é"]', '42["m","😀"]')
    assert eio3.encode_payload([b"3"]) == b"1:3"


def test_a_text_payload_decodes_into_its_packets_with_binary_as_b4_base64() -> None:
    body = text_payload('42["m","😀"]', "2", "b4AQID", '42["é"]')
    assert eio3.decode_payload(body, b"text/plain;charset=UTF-8") == [
        '42["m","😀"]'.encode(),
        b"2",
        bytearray(b"\x01\x02\x03"),
        '42["é"]'.encode(),
    ]


def test_a_binary_payload_decodes_text_and_type_prefixed_binary_packets() -> None:
    event = '451-["new message",{"_placeholder":true,"num":0}]'
    body = binary_payload(event, b"\x04" + bytes(range(256)))
    assert eio3.decode_payload(body, b"application/octet-stream") == [
        event.encode(),
        bytearray(range(256)),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"42[]",  # no length
        b"x:2",
        b"5:2",  # shorter than it says
        text_payload("2") + b"9",
        "2:4😀".encode(),  # the length splits the emoji's surrogate pair
        text_payload("9bad"),
        text_payload("b4***"),
        b"\xff\xfe",
        b"12345678901:2",
        "²:2".encode(),  # a digit to str.isdigit, not to int
    ],
)
def test_a_malformed_text_payload_is_refused(body: bytes) -> None:
    with pytest.raises(wire.BadPacket):
        eio3.decode_payload(body, None)


@pytest.mark.parametrize(
    "body",
    [
        b"\x02\x01\xff2",  # neither text nor binary
        b"\x00\x01\x00",  # no 255 after the length
        b"\x00\x0a\xff2",  # a "digit" of 10
        b"\x00\x05\xff2",  # shorter than it says
        b"\x01\x04\xff\x05abc",  # binary, but not a message
        b"\x00\x01\xffz",
    ],
)
def test_a_malformed_binary_payload_is_refused(body: bytes) -> None:
    with pytest.raises(wire.BadPacket):
        eio3.decode_payload(body, b"application/octet-stream")


def test_the_handshake_query_stands_in_for_auth() -> None:
    query = {"EIO": "3", "transport": "polling", "t": "N1", "b64": "1", "token": "123"}
    query |= {"serverOffset": "42", "since": "²"}
    assert eio3.handshake_auth(query) == {"token": "123", "serverOffset": 42, "since": "²"}


def test_errors_are_a_json_string() -> None:
    assert eio3.connect_error("/", "no") == b'44"no"'
    assert eio3.connect_error("/admin", "Invalid namespace") == b'44/admin,"Invalid namespace"'


# Lengths right, wrong, or in digits that are not 0-9 ("²", "٣": str.isdigit's, not int's).
_numberish = st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=3)
_length = st.integers(0, 30).map(str) | _numberish | st.text(max_size=3)
_v3_text = st.lists(
    st.tuples(_length, st.text(max_size=30)).map(lambda p: f"{p[0]}:{p[1]}"),
    max_size=4,
).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=300) | _v3_text, st.sampled_from([None, b"application/octet-stream"]))
@settings(max_examples=300, deadline=None)
def test_any_body_is_packets_or_a_bad_packet(body: bytes, content_type: bytes | None) -> None:
    """Whatever a client posts, the codec answers with packets or BadPacket (a 400),
    never another exception (a traceback)."""
    try:
        packets = eio3.decode_payload(body, content_type)
    except wire.BadPacket:
        return
    assert packets and all(isinstance(p, bytes | bytearray) for p in packets)


@given(st.dictionaries(st.sampled_from(["serverOffset", "since", "token"]), _length))
def test_any_query_is_an_auth(query: dict[str, str]) -> None:
    auth = eio3.handshake_auth(query)
    assert auth.keys() == query.keys()
