"""Rooms of the fast server: its `Transport` for `ChatService`.

Connections by sid and rooms of connections, kept as the sockets themselves so that a
broadcast is one dict walk: the packet is encoded and framed once and the same bytes are
queued for every member in the `Outbox`. With `--redis`, the packet also goes to the
`RedisRelay`, and packets relayed from other replicas come back in through `deliver`.
"""

import asyncio
from typing import Any

from picows import WSTransport

from escala.chat import wire
from escala.chat.outbox import Outbox
from escala.chat.relay import RedisRelay


class Rooms:
    """The `Transport` of the fast server: connections by sid, rooms of connections.

    A broadcast encodes and frames its packet once and queues the same bytes for every
    member's socket in the outbox; everything else sent to a client goes the same way.
    """

    def __init__(self, relay: RedisRelay | None = None) -> None:
        self.relay = relay
        self.outbox = Outbox()
        self.sockets: dict[str, WSTransport] = {}
        self.rooms: dict[str, dict[str, asyncio.Transport]] = {}
        self.joined: dict[str, set[str]] = {}

    def push(self, ws: WSTransport, packet: bytes) -> None:
        """Queue one Engine.IO packet for one client."""
        self.outbox.put(ws.underlying_transport, wire.text_frame(packet))

    def add(self, sid: str, ws: WSTransport) -> None:
        self.sockets[sid] = ws
        self.joined[sid] = set()

    def remove(self, sid: str) -> None:
        """Forget a connection and take it out of every room it was in."""
        self.sockets.pop(sid, None)
        for room in self.joined.pop(sid, ()):
            members = self.rooms.get(room)
            if members is not None:
                members.pop(sid, None)
                if not members:
                    del self.rooms[room]

    async def send_to(self, sid: str, event: str, data: Any) -> None:
        ws = self.sockets.get(sid)
        if ws is not None:
            self.push(ws, wire.event(event, data))

    async def broadcast(self, room: str, event: str, data: Any, skip: str | None = None) -> None:
        packet = wire.event(event, data)
        self.deliver(room, packet, skip)
        if self.relay is not None:
            self.relay.publish(room, skip, packet)

    def deliver(self, room: str, packet: bytes, skip: str | None = None) -> None:
        """Write a packet to this replica's members of a room: framed once, same bytes."""
        members = self.rooms.get(room)
        if not members:
            return
        frame = wire.text_frame(packet)
        put = self.outbox.put
        for sid, sock in members.items():
            if sid != skip:
                put(sock, frame)

    async def enter_room(self, sid: str, room: str) -> None:
        ws = self.sockets.get(sid)
        if ws is not None:
            self.rooms.setdefault(room, {})[sid] = ws.underlying_transport
            self.joined[sid].add(room)

    async def leave_room(self, sid: str, room: str) -> None:
        members = self.rooms.get(room)
        if members is not None:
            members.pop(sid, None)
            if not members:
                del self.rooms[room]
        self.joined.get(sid, set()).discard(room)

    async def disconnect(self, sid: str) -> None:
        ws = self.sockets.get(sid)
        if ws is not None:
            ws.disconnect()
