"""
Writing rosbag2 bags (sqlite3 or MCAP, format version 9, as ROS 2 Jazzy) from CDR bytes.

Every connection carries its message definition, so any rosbag2 reader (``ros2 bag``,
rosbags, Foxglove) can decode it, lim_ros_msgs/msg/IndexedMesh included: its definition is
read from ``lim_ros_msgs/msg/IndexedMesh.msg`` in the checkout, or from the installed
``<prefix>/share/lim_ros_msgs/msg/``. Message timestamps are ROS time, ns.
"""

from functools import cache
from pathlib import Path
import sys
from types import TracebackType
from typing import Final

from lim_ros.bag.topics import INDEXED_MESH
from lim_ros.errors import BagError, ConfigError
from rosbags.interfaces import (
    Connection,
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys import get_types_from_msg, get_typestore, Stores
from rosbags.typesys.store import Typestore

STORAGES = {'sqlite3': StoragePlugin.SQLITE3, 'mcap': StoragePlugin.MCAP}
BAG_VERSION: Final = 9  # the rosbag2 metadata version ROS 2 Jazzy writes


def indexed_mesh_definition() -> Path:
    """Return the path of IndexedMesh.msg (checkout first, then the installed share folder)."""
    relative = Path('lim_ros_msgs') / 'msg' / 'IndexedMesh.msg'
    candidates = [Path(__file__).resolve().parents[2] / relative,
                  Path(sys.prefix) / 'share' / relative]
    for path in candidates:
        if path.is_file():
            return path
    raise BagError(f'{INDEXED_MESH}: message definition not found (looked for '
                   f'{", ".join(str(p) for p in candidates)})')


@cache
def typestore() -> Typestore:
    """Return ROS 2 Jazzy's message types plus lim_ros_msgs/msg/IndexedMesh."""
    store = get_typestore(Stores.ROS2_JAZZY)
    store.register(get_types_from_msg(indexed_mesh_definition().read_text(), INDEXED_MESH))
    return store


def qos(reliable: bool, transient_local: bool = False, depth: int = 10) -> list[Qos]:
    """Return an offered QoS profile (keep last ``depth``) as the bag's metadata stores it."""
    unset = QosTime(sec=0, nsec=0)
    return [Qos(history=QosHistory.KEEP_LAST, depth=depth,
                reliability=QosReliability.RELIABLE if reliable else QosReliability.BEST_EFFORT,
                durability=(QosDurability.TRANSIENT_LOCAL if transient_local
                            else QosDurability.VOLATILE),
                deadline=unset, lifespan=unset, liveliness=QosLiveliness.AUTOMATIC,
                liveliness_lease_duration=unset, avoid_ros_namespace_conventions=False)]


class BagWriter:
    """
    A rosbag2 being written: topics declared up front, the bag created at the first message.

    Use as a context manager; the bag is closed (readable) even when an error stops the
    writing part-way. No message, no bag.
    """

    def __init__(self, path: Path, storage: str, topics: dict[str, str],
                 offered_qos: dict[str, list[Qos]] | None = None) -> None:
        """
        Prepare to write ``topics`` (name → message type) to ``path`` with ``storage``.

        :raises ConfigError: for an unknown storage.
        :raises BagError: if ``path`` exists already (bags are never overwritten).
        """
        if storage not in STORAGES:
            raise ConfigError(f'storage: expected one of {sorted(STORAGES)}, got {storage!r}')
        self.path = Path(path)
        if self.path.exists():
            raise BagError(f'{self.path}: exists already; bags are never overwritten')
        self.storage, self.topics = storage, dict(topics)
        self.offered_qos = offered_qos or {}
        self.counts = dict.fromkeys(self.topics, 0)
        self._writer: Writer | None = None
        self._connections: dict[str, Connection] = {}

    def _open(self) -> Writer:
        store = typestore()
        try:
            writer = self._writer = Writer(self.path, version=BAG_VERSION,
                                           storage_plugin=STORAGES[self.storage])
            writer.open()
            for topic, msgtype in self.topics.items():
                self._connections[topic] = writer.add_connection(
                    topic, msgtype, typestore=store,
                    offered_qos_profiles=self.offered_qos.get(topic, ()))
        except WriterError as error:
            raise BagError(f'{self.path}: cannot write the bag: {error}') from error
        return writer

    def write(self, topic: str, stamp_ns: int, data: bytes) -> None:
        """Write one serialised message ``data`` on ``topic`` at bag time ``stamp_ns``."""
        if topic not in self.topics:
            raise BagError(f'topic: expected one of {sorted(self.topics)}, got {topic!r}')
        writer = self._writer if self._writer is not None else self._open()
        writer.write(self._connections[topic], stamp_ns, data)
        self.counts[topic] += 1

    def close(self) -> None:
        """Finish the bag (index and metadata.yaml); nothing if no message was written."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()

    def __enter__(self) -> 'BagWriter':
        """Return the writer."""
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        """Close the bag."""
        self.close()
