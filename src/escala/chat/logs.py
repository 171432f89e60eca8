"""How `escala chat serve` logs: uvicorn's text lines, or one JSON object a line."""

import copy
import json
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


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


def uvicorn_log_config(fmt: str) -> dict[str, Any]:
    """uvicorn's logging config, with escala.chat's own lines (e.g. the SIGTERM drain)
    going where uvicorn's go; `json` makes every line one JSON object."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["escala.chat"] = {"handlers": ["default"], "level": "INFO"}
    if fmt == "text":
        return config
    handler = {"class": "logging.StreamHandler", "formatter": "json"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSONFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": "INFO", "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "escala.chat")
        },
    }


def configure_fast(fmt: str, level: str) -> None:
    """Logging for `--server fast`, which has no uvicorn to set it up: text lines, or with
    `json` the same one-object-a-line format as the uvicorn server, so a deployment's
    `--log-format json` holds whichever server it runs."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
