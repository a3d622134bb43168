"""Access-log lines without the keys a URL may carry: `?key=` (the status page in a browser) and
`?token=` (DeepLX clients such as Immersive Translate, which cannot set headers)."""

from __future__ import annotations

import logging
import re

SECRET = re.compile(r"([?&](?:key|token|auth_key)=)[^&#]*", re.IGNORECASE)


class QuerySecrets(logging.Filter):
    """Masks the secret query values in uvicorn's access records (args: client, method, path, version,
    status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "=" in args[2]:
            record.args = (*args[:2], SECRET.sub(r"\1***", args[2]), *args[3:])
        return True
