"""Graceful SIGTERM for the chat under uvicorn: drain first, then let uvicorn stop.

uvicorn on SIGTERM closes its listening socket at once, so a load balancer's probe
of /readyz gets "connection refused" rather than 503, and websocket clients are cut
all together. `DrainingServer` turns the first SIGTERM into `ChatApp.drain` (readyz
503, no new clients, connections closed so clients reconnect elsewhere), and only
then hands over to uvicorn's own shutdown, which runs the lifespan shutdown that
flushes history. The whole sequence is bounded by `drain_timeout`.
"""

import asyncio
import logging
import signal
from types import FrameType

import uvicorn

from escala.chat.server import ChatApp

log = logging.getLogger("escala.chat")

# What uvicorn's own shutdown keeps of the deadline (closing sockets, lifespan).
SHUTDOWN_SHARE = 0.2


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: ChatApp, drain_timeout: float) -> None:
        config.timeout_graceful_shutdown = max(1, int(drain_timeout * SHUTDOWN_SHARE))
        super().__init__(config)
        self.chat = app
        self.drain_budget = drain_timeout * (1 - SHUTDOWN_SHARE)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM or self._loop is None or self._drain is not None:
            super().handle_exit(sig, frame)  # Ctrl-C, or a second SIGTERM: stop now
            return
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        if self._drain is None:
            self._drain = asyncio.create_task(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        log.info("SIGTERM: draining for at most %.1fs", self.drain_budget)
        try:
            await asyncio.wait_for(self.chat.drain(self.drain_budget), self.drain_budget)
        except TimeoutError:
            log.warning("drain deadline passed; closing what is left")
        finally:
            self.should_exit = True
