"""Helpers of the bag tests: the session's scene, and copying a bag with edits."""

from collections.abc import Callable
from pathlib import Path

from lim_ros.bag import SceneConfig
from lim_ros.bag.writer import BagWriter
from rosbags.highlevel import AnyReader

# 64 px, 1 s at 4 Hz: keyframes at 0, 0.5 and 1 s with the default keyframe rate of 2 Hz.
SCENE = SceneConfig('humanoid', seed=0, duration=1.0, camera_rate=4.0, size=64)

Message = tuple[str, str, int, bytes]  # topic, message type, bag time (ns), CDR bytes
Edit = Callable[[Message], list[Message]]  # the messages to write instead (none: drop it)


def read_raw(path: Path) -> list[Message]:
    """Return every message of a bag, in bag order."""
    with AnyReader([Path(path)]) as reader:
        return [(c.topic, c.msgtype, t, bytes(raw)) for c, t, raw in reader.messages()]


def copy_bag(source: Path, target: Path, storage: str = 'sqlite3',
             edit: Edit | None = None) -> None:
    """Copy ``source`` to ``target`` in ``storage``, passing every message through ``edit``."""
    messages = [new for message in read_raw(source)
                for new in (edit(message) if edit else [message])]
    topics = {topic: msgtype for topic, msgtype, _, _ in messages}
    with BagWriter(target, storage, topics) as bag:
        for topic, _, stamp, data in messages:
            bag.write(topic, stamp, data)
