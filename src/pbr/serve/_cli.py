"""``pbr serve``: the command that starts the web API (with uvicorn), safe by default.

Registering the command imports nothing of the ``serve`` extra; running it checks the extra is
installed, that a non-loopback address has a token, that the port is free and that the plans,
the term calendar and the ledger can be used, each a one-line error (exit 2; a plan's or a
calendar's problems a line each) before anything listens.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import socket
import stat
import sys
from pathlib import Path
from typing import Any, TextIO

from pbr._terminal import printable
from pbr.serve._settings import LOOPBACK_HOSTS, Settings, check_bind, is_loopback, parse_choice

__all__ = ["add_serve_command", "app_from_environment", "run_serve", "settings_from"]

_ENVIRONMENT = "PBR_SERVE_OPTIONS"
"""Where the options go for worker processes (``--workers`` > 1), which build their own app."""
_SIZE = re.compile(r"(\d+)\s*([KMG]?)i?B?", re.IGNORECASE)
_DEFAULTS = Settings()


class _DefaultSize(int):
    """A size limit's default: an int the command can tell from the same size given."""


def _size(text: str) -> int:
    """A byte count: ``4194304``, ``4M``, ``512K``, ``1G``."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(f"not a size (e.g. 4M, 512K, 1G): {text!r}")
    return int(match[1]) * 1024 ** "_KMG".index(match[2].upper() or "_")  # type: ignore[no-any-return]


def _seconds(text: str) -> float:
    """``--timeout``, ``--batch-timeout``: seconds, more than 0 and finite (inf waits forever)."""
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def _choice(text: str) -> tuple[str, str]:
    try:
        return parse_choice(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a number of workers (1 or more): {text!r}")
    return int(text)


def add_serve_command(sub: Any) -> None:
    """Register ``pbr serve`` on the CLI's subparsers."""
    from pbr.cli._options import LEDGER_KEY_HELP, file_name

    sv = sub.add_parser(
        "serve",
        help="serve the JSON web API (needs the serve extra: pip install 'pbr-claims[serve]')",
    )
    sv.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; any other needs --token-file)",
    )
    sv.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    sv.add_argument(
        "--workers", type=_workers, default=1, metavar="N", help="worker processes (default 1)"
    )
    sv.add_argument(
        "--plan",
        action="append",
        default=[],
        type=file_name,
        metavar="FILE",
        help="an outcome plan (TOML, JSON or YAML); the first for each programme is the "
        "default, any may be chosen per request by its label (repeatable)",
    )
    sv.add_argument(
        "--interpretation",
        type=_choice,
        action="append",
        default=[],
        metavar="ID=VALUE",
        help="the default of an interpretation; requests may switch it (repeatable)",
    )
    sv.add_argument(
        "--term-calendar",
        type=file_name,
        metavar="FILE",
        help="the council's school term dates (TOML, JSON or CSV), read at start-up, for "
        "every programme and every request: terms it does not give keep the default dates",
    )
    sv.add_argument(
        "--ledger",
        type=file_name,
        metavar="DB",
        help="a payments ledger: its entries count as payments made",
    )
    sv.add_argument("--key-file", type=file_name, metavar="FILE", help=LEDGER_KEY_HELP)
    sv.add_argument(
        "--token-file",
        type=file_name,
        metavar="FILE",
        help="require 'Authorization: Bearer TOKEN' with the token in FILE (at least 16 "
        "characters)",
    )
    sv.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name to answer (repeatable; default: the loopback names on a loopback "
        "address, any name otherwise)",
    )
    sv.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages from ORIGIN call the API (repeatable; default none)",
    )
    sv.add_argument(
        "--max-record-bytes",
        type=_size,
        default=_DefaultSize(_DEFAULTS.max_record_bytes),
        metavar="SIZE",
        help="largest one-family body and longest batch line (default 4M)",
    )
    sv.add_argument(
        "--max-upload-bytes",
        type=_size,
        default=_DefaultSize(_DEFAULTS.max_upload_bytes),
        metavar="SIZE",
        help="largest batch or audit body (default 256M)",
    )
    sv.add_argument(
        "--timeout",
        type=_seconds,
        default=_DEFAULTS.timeout,
        metavar="SECONDS",
        help="time to receive a body, or the next part of a batch (default 30)",
    )
    sv.add_argument(
        "--batch-timeout",
        type=_seconds,
        default=_DEFAULTS.batch_timeout,
        metavar="SECONDS",
        help="longest a batch may run (default 3600)",
    )
    sv.add_argument(
        "--log-ids", action="store_true", help="add family ids to the access log (no other data)"
    )
    sv.add_argument("--no-access-log", action="store_true", help="log no line per request")
    sv.add_argument(
        "--http-parser",
        choices=("h11", "httptools"),
        default="h11",
        help="h11 (default) or the faster httptools, which loses the body of a request that "
        "offers an upgrade, as Java's HttpClient does on plain HTTP",
    )
    sv.add_argument(
        "--tls-cert", type=file_name, metavar="FILE", help="serve HTTPS with this certificate (PEM)"
    )
    sv.add_argument(
        "--tls-key", type=file_name, metavar="FILE", help="the certificate's private key (PEM)"
    )


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The options that make the app, as JSON-safe data (for worker processes).

    Raises:
        UnknownInterpretation: an interpretation is given twice (as ``pbr evaluate`` refuses).

    """
    from pbr._arguments import interpretations_once

    hosts = args.allowed_host or (list(LOOPBACK_HOSTS) if is_loopback(args.host) else ["*"])
    return {
        "interpretations": interpretations_once(args.interpretation),
        "plans": list(args.plan),
        "term_calendar": args.term_calendar,
        "ledger": args.ledger,
        "key_file": args.key_file,  # its path, never the key: this goes in the environment
        "token_file": args.token_file,
        "allowed_hosts": hosts,
        "cors_origins": list(args.cors_origin),
        "max_record_bytes": args.max_record_bytes,
        "max_upload_bytes": args.max_upload_bytes,
        "timeout": args.timeout,
        "batch_timeout": args.batch_timeout,
        "access_log": not args.no_access_log,
        "log_ids": args.log_ids,
    }


def _check_limits(args: argparse.Namespace) -> None:
    """Refuse an upload limit below the record limit in the options' words, not `Settings`'."""
    if args.max_upload_bytes >= args.max_record_bytes:
        return

    def given(option: str, value: int) -> str:
        default = " (its default)" if isinstance(value, _DefaultSize) else ""
        return f"{option} {value:,}{default}"

    raise ValueError(
        f"{given('--max-upload-bytes', args.max_upload_bytes)} is smaller than "
        f"{given('--max-record-bytes', args.max_record_bytes)}: --max-upload-bytes must be at "
        "least --max-record-bytes"
    )


def settings_from(options: dict[str, Any], err: TextIO | None = None) -> Settings:
    """Settings from the command's options; reads the token file and the ledger's key.

    The key comes from ``--key-file``, else as every command reads it (`pbr.ledger.load_key`:
    ``PBR_LEDGER_KEY_FILE``, else ``PBR_LEDGER_KEY``), in each worker process too.

    Raises:
        ValueError: the token file or the ledger key cannot be read, or a setting is out of
            range.

    """
    from pbr.ledger import load_key

    options = dict(options)
    token_file = options.pop("token_file", None)
    key_file = options.pop("key_file", None)
    if key_file is not None and options["ledger"] is None:
        raise ValueError("--key-file applies only with --ledger DB (no ledger is read without it)")
    token = _read_token(token_file, err) if token_file else None
    key = load_key(key_file) if options["ledger"] is not None else None
    return Settings(
        interpretations=options["interpretations"],
        plans=tuple(options["plans"]),
        term_calendar=options.get("term_calendar"),
        ledger=options["ledger"],
        ledger_key=key,
        token=token,
        allowed_hosts=tuple(options["allowed_hosts"]),
        cors_origins=tuple(options["cors_origins"]),
        max_record_bytes=options["max_record_bytes"],
        max_upload_bytes=options["max_upload_bytes"],
        timeout=options["timeout"],
        batch_timeout=options["batch_timeout"],
        access_log=options["access_log"],
        log_ids=options["log_ids"],
    )


def _read_token(path: str, err: TextIO | None) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
        mode = os.stat(path).st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the token file {path}: {exc}") from None
    token = text.strip()
    try:
        Settings(token=token)
    except ValueError as exc:
        raise ValueError(f"token file {path}: {exc}") from None
    if err is not None and mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(
            f"pbr: warning: the token file {printable(path)} can be read by other users "
            f"(chmod 600 {printable(path)})",
            file=err,
        )
    return token


def app_from_environment() -> Any:
    """The app of a worker process, from the options the command left in its environment."""
    from pbr.serve._app import create_app

    return create_app(settings_from(json.loads(os.environ[_ENVIRONMENT])))


def run_serve(args: argparse.Namespace, err: TextIO | None = None) -> int:
    """Run ``pbr serve`` until it is stopped; returns the exit status."""
    err = err or sys.stderr
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        print(
            f"pbr: pbr serve needs the serve extra ({exc.name} is missing): "
            "pip install 'pbr-claims[serve]'",
            file=err,
        )
        return 2
    if args.http_parser == "httptools":
        try:
            import httptools  # noqa: F401
        except ImportError:
            print("pbr: --http-parser httptools needs httptools: pip install httptools", file=err)
            return 2
    from pbr.errors import PlanError
    from pbr.serve._app import create_app

    try:
        options = _options(args)
        if (args.tls_cert is None) != (args.tls_key is None):
            raise ValueError("give both --tls-cert and --tls-key, or neither")
        _check_limits(args)
        settings = settings_from(options, err)
        check_bind(args.host, settings.token)
        app = create_app(settings)
        _check_free(args.host, args.port)
    except (ValueError, PlanError, OSError) as exc:
        from pbr.cli import problems_of

        for problem in problems_of(exc):
            print(f"pbr: {printable(problem)}", file=err)
        return 2
    scheme = "https" if args.tls_cert else "http"
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"pbr serve: {scheme}://{shown}:{args.port} (pbr {_version()}; "
        f"{args.workers} worker{'s' if args.workers > 1 else ''}; "
        f"token {'required' if settings.token else 'not required'}; "
        f"ledger {printable(str(settings.ledger or 'none'))}"
        f"{_calendar_said(settings)}); Ctrl+C stops it",
        file=err,
        flush=True,
    )
    target: Any = app
    if args.workers > 1:
        os.environ[_ENVIRONMENT] = json.dumps(options)
        target = "pbr.serve._cli:app_from_environment"
    uvicorn.run(
        target,
        factory=args.workers > 1,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=_log_config(),
        access_log=False,
        server_header=False,
        proxy_headers=False,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        lifespan="off",
        # h11 by default: httptools drops the body of any request that offers an upgrade, and
        # every stock Java HttpClient offers h2c on plain HTTP (Kludex/uvicorn#2722)
        http=args.http_parser,
        ws="none",  # no WebSocket endpoint: an upgrade offer is answered as plain HTTP
    )
    return 0


def _calendar_said(settings: Settings) -> str:
    """The start-up line's mention of the term calendar file, if one is given."""
    if settings.term_calendar is None:
        return ""
    return f"; term calendar {printable(str(settings.term_calendar))}"


def _check_free(host: str, port: int) -> None:
    """Fail now, in one line, if the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _version() -> str:
    from pbr import __version__

    return __version__


def _log_config() -> dict[str, Any]:
    """One line per record on standard error: uvicorn's warnings and the server's own log."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "filters": {"no_upgrade_advice": {"()": _NoUpgradeAdvice}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.error": {"level": "WARNING", "filters": ["no_upgrade_advice"]},
            "pbr.serve": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }


class _NoUpgradeAdvice(logging.Filter):
    """Drops uvicorn's warnings on a request that offers an upgrade (h2c, WebSocket).

    Every stock Java ``HttpClient`` offers h2c on plain HTTP; the request is answered as plain
    HTTP, as it should be, yet uvicorn warns of it and advises installing a WebSocket library,
    which pbr has no use for.
    """

    _SAID = ("Unsupported upgrade request.", "No supported WebSocket library detected.")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self._SAID)
