"""The `workers-ai-gateway` command: `serve` (the gateway) and `emulator` (a stand-alone Workers AI)."""

from __future__ import annotations

import argparse
import errno
import logging
import logging.config
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from app.cf_accounts import DEMO_ACCOUNT_ID
from app.config import DEFAULT_CF_API_BASE, Settings
from app.ops.logs import EMULATOR_THREAD, log_config
from app.server import GatewayProtocol, Limits

log = logging.getLogger("app")
LOOP = "uvloop"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="workers-ai-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway (settings from the environment and .env)")
    serve.add_argument("--host", help="overrides HOST")
    serve.add_argument("--port", type=int, help="overrides PORT")
    serve.add_argument("--workers", type=int, help="overrides WORKERS")
    serve.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    emulator = commands.add_parser("emulator", help="run the Workers AI emulator on its own")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8787)
    emulator.add_argument("--token", help="require this Bearer token (else any is accepted)")
    emulator.add_argument("--account-id", help="accept only this account id (else any)")
    emulator.add_argument("--free-accounts", default="", help="accounts on the free plan, comma-separated (5035)")
    emulator.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.command == "serve":
        overrides = {k: v for k in ("host", "port", "workers", "log_level") if (v := getattr(args, k)) is not None}
        run_gateway(Settings(**overrides))
    else:
        free = tuple(a.strip() for a in args.free_accounts.split(",") if a.strip())
        run_emulator(
            args.host, args.port, token=args.token, account_id=args.account_id, log_level=args.log_level, free=free
        )


def is_demo(settings: Settings) -> bool:
    """No Cloudflare settings at all: serve from the built-in emulator."""
    configured = settings.cf_account_id or settings.cf_api_token or settings.cf_accounts.strip()
    return not configured and settings.cf_api_base == DEFAULT_CF_API_BASE


def run_gateway(settings: Settings) -> None:
    logging.config.dictConfig(log_config(settings))
    _exit_zero_on_sigterm()
    listener = _listen(settings)  # first: a port in use is said at once, before an emulator or a worker starts
    if settings.workers > 1:
        _run_workers(settings, listener)
        return
    from app.main import create_app

    emulator = _DemoEmulator() if is_demo(settings) else None
    app_settings = _demo_settings(settings, emulator.port) if emulator is not None else settings
    server = _Server(gateway_config(create_app(app_settings, demo=emulator is not None), settings))
    server.banner = banner(settings, emulator.port if emulator is not None else None)
    try:
        server.run(sockets=[listener])
    finally:
        if emulator is not None:
            emulator.stop()  # after the gateway: its open streams still needed it


class _Server(uvicorn.Server):
    """uvicorn's server, which says the banner once it serves (the last start-up line, after the app's)."""

    banner: list[str] = []

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            say(self.banner)


def _listen(settings: Settings) -> socket.socket:
    """The gateway's listening socket (the workers share it), or one clear error line and exit status 3."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
        sock.listen(2048)  # uvicorn's backlog: a connection made before a worker is up waits for it
    except OSError as exc:
        sock.close()
        in_use = exc.errno == errno.EADDRINUSE
        log.error(
            "Cannot listen on %s:%d: port %d %s. Choose another port with PORT (or --port), or stop what holds it%s.",
            settings.host,
            settings.port,
            settings.port,
            "is already in use" if in_use else f"cannot be used ({exc.strerror})",
            "" if in_use else "; HOST (or --host) must be an address of this machine",
        )
        sys.exit(STARTUP_FAILURE)
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True)
class WorkerApp:
    """The app factory uvicorn's supervisor pickles to each worker process: the parent's settings (so the
    command line's overrides and demo mode reach every worker, and the environment is read and checked
    once); the app itself, and FastAPI with it, is only imported in the workers."""

    settings: Settings
    demo: bool = False

    def __call__(self) -> object:
        from app.main import create_app

        return create_app(self.settings, demo=self.demo)


def _run_workers(settings: Settings, listener: socket.socket) -> None:
    """WORKERS processes on one listening socket, as `uvicorn.run` does it. SIGTERM (or Ctrl-C) to this
    parent passes SIGTERM to every worker, each lets its open requests finish (SHUTDOWN_TIMEOUT), and the
    parent exits 0 once all have; a worker that dies is replaced. In demo mode the one emulator runs in
    this parent and every worker calls it."""
    if not settings.redis_url:
        log.warning(
            "WORKERS=%d without REDIS_URL: rate limits, neuron counters, account states, stored responses and "
            "the translation cache are kept per worker process, so each worker allows the full limits. Set "
            "REDIS_URL to share them "
            "(docs/scaling.md).",
            settings.workers,
        )
    app, emulator = WorkerApp(settings), None
    if is_demo(settings):
        emulator = _DemoEmulator()
        app = WorkerApp(_demo_settings(settings, emulator.port), demo=True)
    config = gateway_config(app, settings, factory=True, workers=settings.workers)
    # Said once, by the parent: the socket already listens, so a connection waits for the first worker.
    say(banner(settings, emulator.port if emulator is not None else None))
    supervisor = Multiprocess(config, sockets=[listener])
    try:
        supervisor.run()
    finally:
        if emulator is not None:
            emulator.stop()  # after the workers: their open streams still needed it
    if any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes):
        sys.exit(STARTUP_FAILURE)  # a worker could not start (its error is in the log above)


def _exit_zero_on_sigterm() -> None:
    """uvicorn shuts down gracefully on SIGTERM, then raises the signal again to the handler it found; with
    the default one the process dies of it (exit status 143). This one exits with status 0: after a
    graceful stop, as orchestrators expect, and at once for a SIGTERM before uvicorn took over."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


def gateway_config(app: object, settings: Settings, **extra: Any) -> uvicorn.Config:
    """Production uvicorn: uvloop, httptools with the server limits (app/server.py), no access log unless
    asked, no Server header. Single worker, workers and demo mode all start from here; with workers the
    whole config is pickled to each worker process, so `app` and `http` are picklable (WorkerApp, a
    partial of GatewayProtocol)."""
    limits = Limits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_header_bytes=settings.max_header_bytes,
        max_body_bytes=settings.max_body_bytes,
    )
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        loop=LOOP,
        http=GatewayProtocol.with_limits(limits),
        ws="none",  # no WebSocket routes: GatewayProtocol refuses upgrades itself, no library is loaded
        timeout_keep_alive=settings.keepalive_timeout,  # type: ignore[arg-type]  # a float works (call_later)
        access_log=settings.access_log,
        log_config=log_config(settings),
        log_level=settings.log_level,
        # On SIGTERM: stop accepting, let open requests and streams finish, cut what is left after this.
        timeout_graceful_shutdown=settings.shutdown_timeout,  # type: ignore[arg-type]  # a float works
        server_header=False,
        proxy_headers=False,  # the gateway does not read client addresses; skip the per-request rewrite
        **extra,
    )


class _DemoEmulator:
    """The built-in emulator on a thread of the gateway's process (of the parent, shared by every worker, with
    WORKERS). Its own start-up and shutdown lines are left out of the log (`QuietThread`): they buried the
    gateway's."""

    def __init__(self) -> None:
        self.port = _free_port()
        self._server = uvicorn.Server(_emulator_config(self.port))
        # A daemon: a SIGTERM before the workers started must not leave the process waiting for it.
        self._thread = threading.Thread(target=self._server.run, name=EMULATOR_THREAD, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the built-in Workers AI emulator did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)


def _demo_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={
            "cf_api_base": f"http://127.0.0.1:{port}/client/v4",
            "cf_account_id": DEMO_ACCOUNT_ID,
            "cf_api_token": "demo",
            "cf_ai_gateway": "",  # the emulator is called directly
        }
    )


def _emulator_config(port: int) -> uvicorn.Config:
    from app.emulator.app import EMULATOR_KEEP_ALIVE, create_emulator

    return uvicorn.Config(
        create_emulator(),
        host="127.0.0.1",
        port=port,
        loop=LOOP,
        log_level="warning",
        log_config=None,  # the gateway's logging (LOG_FORMAT) covers it
        access_log=False,
        timeout_keep_alive=EMULATOR_KEEP_ALIVE,
    )


def banner(settings: Settings, emulator_port: int | None) -> list[str]:
    """What a start says once the gateway serves: the mode, and where the API, its docs and the status page are."""
    host = settings.host
    base = f"http://{_browsable(host)}:{settings.port}"
    if emulator_port is not None:
        mode = [
            "DEMO MODE: no CF_ACCOUNT_ID / CF_API_TOKEN set. Answers come from the built-in Workers AI",
            f"emulator on 127.0.0.1:{emulator_port}, not from Cloudflare. See README 'Use real Cloudflare'.",
        ]
    elif settings.managed:
        count = len(settings.account_credentials())
        source = "CF_ACCOUNTS" if settings.cf_accounts.strip() else "CF_ACCOUNT_ID / CF_API_TOKEN"
        mode = [f"Managed mode: {count} Cloudflare account{'s' if count != 1 else ''} ({source})."]
    else:
        mode = ["Passthrough mode: each client's Bearer token is its own Cloudflare API token."]
    workers = f", {settings.workers} worker processes" if settings.workers > 1 else ""
    listening = f" (listening on {host}, every interface)" if host in ("0.0.0.0", "::") else ""
    return [
        "=" * 78,
        f"workers-ai-gateway serves on {base}{workers}{listening}",
        *mode,
        f"  OpenAI base URL: {base}/v1",
        f"  API docs:        {base}/docs",
        f"  Status page:     {base}/status",
        "=" * 78,
    ]


def _browsable(host: str) -> str:
    """The host as a URL names it: loopback for "every interface", IPv6 in brackets."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def say(lines: list[str]) -> None:
    for line in lines:
        log.warning(line)


def run_emulator(
    host: str, port: int, *, token: str | None, account_id: str | None, log_level: str, free: tuple[str, ...] = ()
) -> None:
    from app.emulator.app import EMULATOR_KEEP_ALIVE, create_emulator

    logging.basicConfig(level=log_level.upper())
    print(f"Workers AI emulator on http://{host}:{port}/client/v4 (point CF_API_BASE here)", flush=True)
    uvicorn.run(
        create_emulator(token=token, account_id=account_id, free_accounts=free),
        host=host,
        port=port,
        loop=LOOP,
        log_level=log_level,
        access_log=False,
        timeout_keep_alive=EMULATOR_KEEP_ALIVE,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    main()
