"""A raw websocket broadcast server on picows that speaks just enough Engine.IO/Socket.IO.

Not a chat server: the fastest Python broadcast we could write, used to find the load
generator's own ceiling (docs/performance.md). It answers the Engine.IO open and the
Socket.IO CONNECT and relays each `new message` to every other client, encoded once.
Usage: python picows_broadcast.py PORT
"""

import asyncio
import json
import sys

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

OPEN = b'0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
NEW_MESSAGE = b'42["new message"'
clients: set[WSTransport] = set()


class Client(WSListener):
    def on_ws_connected(self, transport: WSTransport) -> None:
        clients.add(transport)
        transport.send(WSMsgType.TEXT, OPEN)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        clients.discard(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
            return
        payload = frame.get_payload_as_bytes()
        if payload == b"40":
            transport.send(WSMsgType.TEXT, b'40{"sid":"x"}')
        elif payload.startswith(NEW_MESSAGE):
            text = json.loads(payload[2:])[1]
            out = b"42" + json.dumps(["new message", {"username": "u", "message": text}]).encode()
            for other in clients:
                if other is not transport and not other.is_disconnected:
                    other.send(WSMsgType.TEXT, out)


async def main(port: int) -> None:
    def factory(request: WSUpgradeRequest) -> Client:
        return Client()

    server = await ws_create_server(factory, "127.0.0.1", port)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
