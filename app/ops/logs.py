"""How log lines look: plain text or one JSON object a line (LOG_FORMAT), for the gateway's own loggers
and uvicorn's alike. Request lines are written by `app/ops/requests.py` in the same two shapes."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from app.config import Settings

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EMULATOR_THREAD = "demo-emulator"  # the thread the demo mode's built-in emulator serves on (app/cli.py)


class QuietThread(logging.Filter):
    """Leaves out uvicorn's INFO lines of the demo emulator's server (started, waiting, complete, shutting
    down): they shared the gateway's logger and buried its start-up lines. Its warnings and errors stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.threadName != EMULATOR_THREAD


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message"}` (and `exception`), one object a line."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(fields).decode()


def log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the process, which uvicorn also applies in each worker process."""
    formatter = {"()": JsonFormatter} if settings.log_format == "json" else {"format": PLAIN_FORMAT}
    level = settings.log_level.upper()
    through_root = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"gateway": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "gateway", "stream": "ext://sys.stderr"}
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {name: dict(through_root) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
        | {"uvicorn.access": {**through_root, "filters": ["query_secrets"]}}
        | {"uvicorn.error": {**through_root, "filters": ["quiet_emulator"]}},
        # No `?key=`/`?token=` value in the access log (app/ops/redact.py).
        "filters": {
            "query_secrets": {"()": "app.ops.redact.QuerySecrets"},
            "quiet_emulator": {"()": "app.ops.logs.QuietThread"},
        },
    }


def requests_logged(settings: Settings) -> bool:
    """Request lines are INFO lines: written when LOG_REQUESTS is on and LOG_LEVEL lets INFO through."""
    return settings.log_requests and settings.log_level in ("info", "debug")
