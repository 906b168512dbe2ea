"""Run the Moodle sandbox as its own process: ``python -m lms_connectors.moodle.sandbox``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app

logger = logging.getLogger(__name__)
TOKEN_ENV = "PROFROUTE_SANDBOX_TOKEN"  # noqa: S105 - the variable name, not a token
LIMITED_TOKEN_ENV = "PROFROUTE_SANDBOX_LIMITED_TOKEN"  # noqa: S105 - a variable name


class _RequestHandler(WSGIRequestHandler):
    """Access log without query strings: a GET call carries the token in its URL."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        logger.info("%s %s %s", self.command, path, code)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lms_connectors.moodle.sandbox",
                                     description="Moodle sandbox (REST web services).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=None, help=f"service token (or ${TOKEN_ENV})")
    parser.add_argument("--limited-token", default=None,
                        help="second token whose service lacks most functions")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--teachers", type=int, default=180)
    parser.add_argument("--no-grade-items", action="store_true",
                        help="a diagnostic quiz without grade items (Moodle before 4.3)")
    parser.add_argument("--no-plugin", action="store_true",
                        help="a Moodle without the ProfRoute plugin (local_profroute)")
    parser.add_argument("--port-file", type=Path, default=None,
                        help="file that receives the chosen port once listening")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the sandbox, write the port file, serve until SIGTERM or SIGINT.

    Returns:
        The process exit code (2 when no token is given).
    """
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    token = args.token or os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"a token is required: --token or ${TOKEN_ENV}", file=sys.stderr)
        return 2
    limited = args.limited_token or os.environ.get(LIMITED_TOKEN_ENV) or None
    app = create_app(token, limited_token=limited, seed=args.seed,
                     teachers=args.teachers, grade_items=not args.no_grade_items,
                     plugin=not args.no_plugin)
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=_RequestHandler)
    port = server.socket.getsockname()[1]
    if args.port_file is not None:
        partial = args.port_file.with_name(args.port_file.name + ".tmp")
        partial.write_text(str(port), encoding="utf-8")
        partial.replace(args.port_file)

    def stop(signum: int, frame: FrameType | None) -> None:
        logger.info("Sandbox stopping on signal %d", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Moodle sandbox on http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)  # stops within 50 ms of a signal, not 0.5 s
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
