"""`iiot-lakehouse worker`: become a Celery step worker (IIOT_EXECUTOR=celery)."""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlsplit, urlunsplit

from ..executors import ExecutorConfigError, celery_urls
from .errors import CommandError
from .instance import ensure_dagster_home


def worker_command(concurrency: int = 1, name: str | None = None, loglevel: str = "INFO") -> list[str]:
    """The Celery command line of a step worker: the `dagster` queue, one task fetched at a time (a
    step can take minutes; prefetching would park steps behind a busy worker while others idle)."""
    # the worker module builds its Celery app when imported: only once the broker settings are checked
    from ..celery_worker import QUEUE

    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "orchestration.celery_worker",
        "worker",
        "-Q",
        QUEUE,
        "--concurrency",
        str(concurrency),
        "--prefetch-multiplier",
        "1",
        "--loglevel",
        loglevel,
        "-n",
        f"{name or f'iiot-{os.getpid()}'}@%h",
    ]


def cmd_worker(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise CommandError("--concurrency must be at least 1")
    try:
        broker, _ = celery_urls()
    except ExecutorConfigError as exc:
        raise CommandError(str(exc)) from None
    ensure_dagster_home()
    command = worker_command(args.concurrency, args.name, args.loglevel)
    print(f"step worker on the Celery queue at {_redact(broker)}", flush=True)
    os.execv(command[0], command)
    return 0  # not reached: the process is now the worker


def _redact(url: str) -> str:
    """A broker URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
