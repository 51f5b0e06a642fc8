"""The one place where the bronze, silver and mart assets turn a failure no retry can fix into a step
failure that is not retried.

Dagster's RetryPolicy retries on any exception; it cannot tell a full disk from a lost connection. An
asset body runs inside `no_retry_for_storage_faults`: a full disk, a read-only file system, an
exhausted quota or a corrupt Delta log becomes a `dg.Failure(allow_retries=False)` whose description
names the cause and the place, and which the CLI prints as its last line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from assets.storage.errors import unretryable_cause


@contextmanager
def no_retry_for_storage_faults(lakehouse_root: str, writing: str | None = None) -> Iterator[None]:
    """Run an asset's body; re-raise a fault no retry can fix as a Failure that is not retried.

    `writing` names what the body writes (a table's location), for an error that names no file; the
    lakehouse root is where a damaged Delta log is looked for.
    """
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        cause = unretryable_cause(exc, writing, lakehouse_root)
        if cause is None:
            raise
        raise dg.Failure(
            description=cause, metadata={"error": f"{type(exc).__name__}: {exc}"[:2000]}, allow_retries=False
        ) from exc
