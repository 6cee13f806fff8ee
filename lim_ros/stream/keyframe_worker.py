"""
The keyframe worker: a latest-only slot and the thread that turns its sets into keyframes.

Camera callbacks must not wait for the LRM, so a synchronised set goes into a slot that holds
at most one set; a set that replaces one not yet taken is a queue drop (counted by the
caller). The worker thread takes the newest set whenever it is free and hands it to
``handle``, which must not raise (it logs and counts its own errors); memory stays bounded by
one set. The node passes the handler.
"""

from collections.abc import Callable
import threading
import time
from typing import Generic, TypeVar

T = TypeVar('T')


class LatestSlot(Generic[T]):
    """A thread-safe slot holding only the newest item put into it."""

    def __init__(self) -> None:
        """Start empty."""
        self._item: T | None = None
        self._closed = False
        self._ready = threading.Condition()

    def put(self, item: T) -> bool:
        """Store ``item``; return True if it replaced an item nobody took (a drop)."""
        with self._ready:
            dropped = self._item is not None
            self._item = item
            self._ready.notify()
        return dropped

    def take(self, timeout: float | None = None) -> T | None:
        """Remove and return the item; wait up to ``timeout`` s; None if empty or closed."""
        with self._ready:
            self._ready.wait_for(lambda: self._item is not None or self._closed, timeout)
            item, self._item = self._item, None
        return item

    def close(self) -> None:
        """Wake every waiting ``take`` and drop the item."""
        with self._ready:
            self._closed = True
            self._item = None
            self._ready.notify_all()

    @property
    def closed(self) -> bool:
        """Return whether the slot was closed."""
        return self._closed


class KeyframeWorker(Generic[T]):
    """A daemon thread calling ``handle(item, queued_at)`` for each item taken from a slot."""

    def __init__(self, handle: Callable[[T, float], None], name: str = 'lim_keyframes'
                 ) -> None:
        """Start the thread; ``queued_at`` is the `time.monotonic` of the item's `submit`."""
        self.slot: LatestSlot[tuple[T, float]] = LatestSlot()
        self._handle = handle
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> bool:
        """Queue ``item`` (latest only); return True if an untaken item was dropped."""
        return self.slot.put((item, time.monotonic()))

    def stop(self, timeout: float = 10.0) -> None:
        """Close the slot and wait for the item in progress, at most ``timeout`` s."""
        self.slot.close()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Return whether the thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self.slot.closed:
            entry = self.slot.take(timeout=0.5)
            if entry is not None:
                self._handle(*entry)
