"""`python -m app.emulator --host 127.0.0.1 --port 8787 [--token T] [--account-id A]`."""

from __future__ import annotations

import argparse

import uvicorn

from app.emulator.app import EMULATOR_KEEP_ALIVE, create_emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.emulator", description="Workers AI emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--token", default=None, help="require `Authorization: Bearer <token>`")
    parser.add_argument("--account-id", default=None, help="accept only this account id in paths")
    parser.add_argument("--free-accounts", default="", help="comma-separated accounts on the free plan (5035)")
    args = parser.parse_args(argv)
    free = tuple(a.strip() for a in args.free_accounts.split(",") if a.strip())
    app = create_emulator(token=args.token, account_id=args.account_id, free_accounts=free)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_keep_alive=EMULATOR_KEEP_ALIVE)


if __name__ == "__main__":
    main()
