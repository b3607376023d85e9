"""CSV uploads for the import page and the API: the body saved to a temporary file
with a size ceiling, then imported in the background.

An import of a large file takes a while (a million rows, about 40 seconds): the request
only checks the file (the same :func:`smscope.contacts.start_import` as ``smscope
contacts import``), records the import and answers; a thread of its own reads the
rows, writing its progress to the ``imports`` row, which the import's page and
``GET /api/v1/imports/{id}`` read. The thread opens its own sessions (the Database is
shared, sessions are not); the temporary file is removed when it ends.

When the server stops, the imports still running stop between two chunks (what is
committed stays) and are recorded ``failed`` with a message saying how much of the file was
read and that importing the same file again finishes the job: a contact already
imported is updated, not duplicated.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO

from smscope.contacts import StartedImport, start_import
from smscope.db import Database
from smscope.errors import ImportStoppedError

__all__ = ["MAX_UPLOAD", "TooLarge", "import_in_background", "save_upload",
           "stop_imports"]

log = logging.getLogger(__name__)

#: the largest file the web app takes (about 1.5 million rows of number, names and a
#: few fields); larger ones import with ``smscope contacts import`` on the server
MAX_UPLOAD = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


class TooLarge(Exception):
    """An upload over :data:`MAX_UPLOAD`."""


def too_large_message() -> str:
    return (f"the file is larger than {MAX_UPLOAD // 2**20} MB; split it, or import it on "
            "the server with 'smscope contacts import FILE --list NAME'")


def _temporary() -> IO[bytes]:
    return tempfile.NamedTemporaryFile(prefix="smscope-upload-", suffix=".csv",
                                       delete=False)


def save_file(source: IO[bytes]) -> Path:
    """Copy an uploaded file (a form's part) to a temporary file of our own."""
    out = _temporary()
    size = 0
    try:
        with out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise TooLarge(too_large_message())
                out.write(chunk)
    except BaseException:
        os.unlink(out.name)
        raise
    return Path(out.name)


async def save_upload(chunks: AsyncIterator[bytes]) -> Path:
    """Stream a request body (the API's ``text/csv``) to a temporary file, refusing it
    past :data:`MAX_UPLOAD` while it streams."""
    out = _temporary()
    size = 0
    try:
        with out:
            async for chunk in chunks:
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise TooLarge(too_large_message())
                out.write(chunk)
    except BaseException:
        os.unlink(out.name)
        raise
    return Path(out.name)


def start(db: Database, path: Path, list_name: str, *, filename: str,
          default_region: str | None, delimiter: str | None, phone_column: str | None,
          mapping: Sequence[str], actor: str) -> StartedImport:
    """Check the saved file and record its import; the file is removed if refused."""
    try:
        return start_import(db, path, list_name, default_region=default_region,
                            delimiter=delimiter, phone_column=phone_column, mapping=mapping,
                            actor=actor, filename=filename)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


#: the imports running on this process's threads, each with the event that stops it
_running: dict[threading.Thread, threading.Event] = {}
_running_lock = threading.Lock()


def import_in_background(started: StartedImport, path: Path) -> threading.Thread:
    """Read the rows on a thread; the import's row tells how far it is."""
    stop = threading.Event()

    def stopping(done: int, size: int) -> None:
        # called between two committed chunks: the place to stop without losing any
        if stop.is_set():
            share = f" ({done / size:.0%} of the file)" if size else ""
            raise ImportStoppedError(
                f"interrupted: the server stopped while importing{share}; the rows read "
                "until then are imported. Import the same file again to finish: contacts "
                "already imported are updated, not duplicated")

    def run() -> None:
        try:
            started.run(stopping)
        except ImportStoppedError:
            log.warning("import %s stopped with the server", started.import_id)
        except Exception:
            # recorded on the import as failed (with the error) by run() itself
            log.exception("import %s failed", started.import_id)
        finally:
            path.unlink(missing_ok=True)
            with _running_lock:
                _running.pop(threading.current_thread(), None)

    thread = threading.Thread(target=run, name=f"smscope-import-{started.import_id}",
                              daemon=True)
    with _running_lock:
        _running[thread] = stop
    thread.start()
    return thread


def stop_imports(timeout: float = 30.0) -> int:
    """Stop the imports running in the background (the server is stopping) and wait
    for each to record where it stopped; how many were stopped."""
    with _running_lock:
        running = list(_running.items())
    for _, stop in running:
        stop.set()
    for thread, _ in running:
        thread.join(timeout)
    return len(running)
