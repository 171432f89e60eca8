"""Rooms of the chat server: its `Transport` for `ChatService`.

Connections by sid and rooms of connections, kept as their sinks so that a broadcast is
one dict walk: a websocket client's sink is its socket (the packet is framed once and the
same bytes are queued for every such member in the `Outbox`); a long-polling client's is
its `PollQueue`, which gets the packet itself. With `--redis`, the packet also goes to
the `RedisRelay`, and packets relayed from other replicas come back in through `deliver`.

`deliver` also counts the chat messages it writes (`messages_delivered`): there, and
not where the message is broadcast, because with several replicas each one writes its
own members' copies, of its own broadcasts and of those relayed to it.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from escala.chat import wire
from escala.chat.metrics import Metrics
from escala.chat.outbox import Outbox, PollQueue
from escala.chat.relay import RedisRelay, Run
from escala.chat.service import MESSAGE_EVENTS

Sink = asyncio.Transport | PollQueue
"""Where a client's packets go: its websocket's socket, or its long-polling queue."""

_MESSAGE_PACKETS = tuple(wire.event_prefix(name) for name in MESSAGE_EVENTS)


class Rooms:
    """The `Transport` of the chat server: connections by sid, rooms of connections."""

    def __init__(self, metrics: Metrics, relay: RedisRelay | None = None) -> None:
        self.relay = relay
        self.delivered = metrics.messages_delivered
        self.outbox = Outbox()
        self.sinks: dict[str, Sink] = {}
        self.drops: dict[str, Callable[[], None]] = {}
        self.rooms: dict[str, dict[str, Sink]] = {}
        # A sid's rooms, as a list: one or two rooms, and an empty set costs 216 bytes
        # per idle connection where a list costs 56.
        self.joined: dict[str, list[str]] = {}

    def push(self, sink: Sink, packet: bytes) -> None:
        """Queue one Engine.IO packet for one client."""
        if sink.__class__ is PollQueue:
            sink.send(packet)  # type: ignore[union-attr]
        else:
            self.outbox.put(sink, wire.text_frame(packet))  # type: ignore[arg-type]

    def add(self, sid: str, sink: Sink, drop: Callable[[], None]) -> None:
        self.sinks[sid] = sink
        self.drops[sid] = drop
        self.joined[sid] = []

    def rebind(self, sid: str, sink: Sink) -> None:
        """The client moved to another transport (an upgrade): same rooms, new sink."""
        self.sinks[sid] = sink
        for room in self.joined.get(sid, ()):
            self.rooms[room][sid] = sink

    def remove(self, sid: str) -> None:
        """Forget a connection and take it out of every room it was in."""
        self.sinks.pop(sid, None)
        self.drops.pop(sid, None)
        for room in self.joined.pop(sid, ()):
            members = self.rooms.get(room)
            if members is not None:
                members.pop(sid, None)
                if not members:
                    del self.rooms[room]

    async def send_to(self, sid: str, event: str, data: Any) -> None:
        sink = self.sinks.get(sid)
        if sink is not None:
            self.push(sink, wire.event(event, data))

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
        if packet.startswith(_MESSAGE_PACKETS):
            self.delivered.inc(len(members) - (skip in members))
        frame = wire.text_frame(packet)
        put = self.outbox.put
        for sid, sink in members.items():
            if sid == skip:
                continue
            if sink.__class__ is PollQueue:
                sink.send(packet)  # type: ignore[union-attr]
            else:
                put(sink, frame)  # type: ignore[arg-type]

    def deliver_run(self, room: str, run: Run) -> None:
        """Write consecutive broadcasts relayed from another replica to a room's members:
        their frames joined once, one step per member for the whole run.

        The skipped sid is the sender, who lives on the replica the run came from, so
        here it skips no one; if it ever names a member, the run goes one by one.
        """
        members = self.rooms.get(room)
        if not members:
            return
        if len(run) == 1 or any(skip in members for skip, _ in run):
            for skip, packet in run:
                self.deliver(room, packet, skip)
            return
        packets = [packet for _, packet in run]
        messages = sum(packet.startswith(_MESSAGE_PACKETS) for packet in packets)
        if messages:
            self.delivered.inc(messages * len(members))
        frames = b"".join([wire.text_frame(packet) for packet in packets])
        put = self.outbox.put
        for sink in members.values():
            if sink.__class__ is PollQueue:
                for packet in packets:
                    sink.send(packet)  # type: ignore[union-attr]
            else:
                put(sink, frames)  # type: ignore[arg-type]

    async def enter_room(self, sid: str, room: str) -> None:
        sink = self.sinks.get(sid)
        if sink is not None:
            self.rooms.setdefault(room, {})[sid] = sink
            joined = self.joined[sid]
            if room not in joined:
                joined.append(room)

    async def leave_room(self, sid: str, room: str) -> None:
        members = self.rooms.get(room)
        if members is not None:
            members.pop(sid, None)
            if not members:
                del self.rooms[room]
        joined = self.joined.get(sid)
        if joined is not None and room in joined:
            joined.remove(room)

    async def disconnect(self, sid: str) -> None:
        drop = self.drops.get(sid)
        if drop is not None:
            drop()
