"""How `escala chat serve` logs: text lines, or one JSON object a line (`--log-format json`)."""

import json
import logging
import time

# picows logs every accepted connection at INFO: one line per client is noise at scale.
QUIET = {"picows": logging.WARNING}


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(fmt: str, level: str) -> None:
    """Root logging for the server process: `json` makes every line one JSON object, so a
    deployment's log collector parses them without a pattern."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[handler], force=True)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, logging.getLogger().level))


class Throttled:
    """One line per event, but at most `lines` per `window` seconds, then one line saying
    how many were left out: a client sending garbage in a loop cannot fill the disk
    through the server's log (1000 bad frames were 1.64 MB of tracebacks on uvicorn)."""

    def __init__(self, logger: logging.Logger, lines: int = 10, window: float = 60.0) -> None:
        self.logger = logger
        self.lines = lines
        self.window = window
        self._start = time.monotonic()
        self._logged = 0
        self._left_out = 0

    def info(self, msg: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._start >= self.window:
            if self._left_out:
                self.logger.info(
                    "%d more such lines left out in the last %.0fs", self._left_out, self.window
                )
            self._start, self._logged, self._left_out = now, 0, 0
        if self._logged < self.lines:
            self._logged += 1
            self.logger.info(msg, *args)
        else:
            self._left_out += 1


MALFORMED = Throttled(logging.getLogger("escala.chat.input"))
"""Where every note of a client's malformed input goes (one logger, one budget)."""
