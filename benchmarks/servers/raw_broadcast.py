"""A raw websocket broadcast server that speaks just enough Engine.IO/Socket.IO for the chat.

Not a chat server: it exists to show the load generator can deliver more than one chat
replica takes (docs/performance.md). It answers the Engine.IO open and the Socket.IO
CONNECT, then relays each `new message` to every other client with one encode per
broadcast. Usage: python raw_broadcast.py PORT
"""

import asyncio
import json
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

OPEN = "0" + json.dumps({"sid": "x", "upgrades": [], "pingInterval": 25000, "pingTimeout": 20000})
clients: set[ServerConnection] = set()


async def handle(ws: ServerConnection) -> None:
    await ws.send(OPEN)
    clients.add(ws)
    try:
        async for packet in ws:
            if packet == "40":
                await ws.send('40{"sid":"x"}')
            elif isinstance(packet, str) and packet.startswith('42["new message"'):
                text = json.loads(packet[2:])[1]
                out = "42" + json.dumps(["new message", {"username": "u", "message": text}])
                broadcast(clients - {ws}, out)
    finally:
        clients.discard(ws)


async def main(port: int) -> None:
    async with serve(handle, "127.0.0.1", port, compression=None, max_size=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
