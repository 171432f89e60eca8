"""Stock python-socketio chat server with the official chat example's logic.

The baseline the issue quotes ("stock python-socketio under uvicorn"), also used by the
load generator's tests as a real server. Usage: python socketio_chat.py PORT
"""

import sys

import socketio
import uvicorn

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
users: dict[str, str] = {}


@sio.event
async def connect(sid: str, environ: dict, auth: object = None) -> None:
    pass


@sio.on("add user")
async def add_user(sid: str, username: str) -> None:
    if sid in users:
        return
    users[sid] = username
    await sio.emit("login", {"numUsers": len(users)}, to=sid)
    await sio.emit("user joined", {"username": username, "numUsers": len(users)}, skip_sid=sid)


@sio.on("new message")
async def new_message(sid: str, data: str) -> None:
    await sio.emit("new message", {"username": users.get(sid), "message": data}, skip_sid=sid)


@sio.event
async def disconnect(sid: str, *args: object) -> None:
    username = users.pop(sid, None)
    if username is not None:
        await sio.emit("user left", {"username": username, "numUsers": len(users)})


if __name__ == "__main__":
    uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
