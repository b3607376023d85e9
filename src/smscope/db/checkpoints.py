"""SQLite WAL checkpoints on a thread of their own, for processes that write a lot.

In WAL mode SQLite copies the log back into the database file (a *checkpoint*, with
its fsyncs) inside the commit that makes the log cross ``wal_autocheckpoint`` pages:
under a stream of receipts, one batch in every few waits for the disk before its
``deliver_sm_resp`` go out. A worker therefore raises that threshold on its own
connections (to a safety net the thread should never let the log reach) and runs
PASSIVE checkpoints from a separate connection every fraction of a second: they copy
what no reader still needs and never block the writer, which restarts the log at its
next transaction once a checkpoint has caught up. Measured on the receipt flood: see
``bench/README.md``.

Durability does not change: with ``synchronous=NORMAL`` a commit is in the log (and
survives the process), a checkpoint makes it survive the machine, whoever runs it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

__all__ = ["SAFETY_NET_PAGES", "Checkpointer"]

#: ``wal_autocheckpoint`` of the writing connections while a checkpointer runs: if it
#: falls behind (a long reader pins the log), commits checkpoint again past this size
SAFETY_NET_PAGES = 16384


class Checkpointer:
    """A daemon thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on the SQLite file
    ``path`` every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, path: str, *, interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smscope-checkpoints",
                                        daemon=True)

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after one last checkpoint (the log is left small for the next user)."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=1, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("cannot open %s for checkpoints: %s", self.path, exc)
            return
        try:
            while not self._stop.wait(self.interval):
                self._checkpoint(connection)
            self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # a busy or locked file: the next round tries again
            log.debug("checkpoint of %s skipped: %s", self.path, exc)
