"""
Topic names and message types of the bags ``lim-ros bag`` reads and writes.

Input: for every camera namespace ``c`` of ``StreamConfig.cameras``, ``/c/image_raw``
(sensor_msgs/Image) or ``/c/image_raw/compressed`` (sensor_msgs/CompressedImage), and
``/c/camera_info`` (sensor_msgs/CameraInfo); the same names without the leading slash are
accepted. Output: the topics of the node ``lim_node`` (``~/points``, ``~/mesh_marker``,
``~/mesh`` and, with tracking, ``~/tracked_mesh``, ``~/tracked_mesh_marker``,
``~/tracked_mesh/anchor``, ``~/tracked_mesh/texture``), fully qualified.
"""

from lim_ros.bag.params import NODE_NAME

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED_IMAGE = 'sensor_msgs/msg/CompressedImage'
CAMERA_INFO = 'sensor_msgs/msg/CameraInfo'
POINT_CLOUD = 'sensor_msgs/msg/PointCloud2'
MARKER = 'visualization_msgs/msg/Marker'
INDEXED_MESH = 'lim_ros_msgs/msg/IndexedMesh'

POINTS_TOPIC = f'/{NODE_NAME}/points'
MARKER_TOPIC = f'/{NODE_NAME}/mesh_marker'
MESH_TOPIC = f'/{NODE_NAME}/mesh'
OUTPUT_TOPICS = {POINTS_TOPIC: POINT_CLOUD, MARKER_TOPIC: MARKER, MESH_TOPIC: INDEXED_MESH}
TRACKED_MESH_TOPIC = f'/{NODE_NAME}/tracked_mesh'
TRACKED_MARKER_TOPIC = f'/{NODE_NAME}/tracked_mesh_marker'
TRACK_ANCHOR_TOPIC = f'/{NODE_NAME}/tracked_mesh/anchor'
TRACK_TEXTURE_TOPIC = f'/{NODE_NAME}/tracked_mesh/texture'
TRACKED_TOPICS = {TRACKED_MESH_TOPIC: INDEXED_MESH, TRACKED_MARKER_TOPIC: MARKER,
                  TRACK_ANCHOR_TOPIC: INDEXED_MESH, TRACK_TEXTURE_TOPIC: IMAGE}


def image_topic(camera: str) -> str:
    """Return the raw image topic of camera namespace ``camera``, e.g. ``/cam0/image_raw``."""
    return f'/{camera.strip("/")}/image_raw'


def compressed_topic(camera: str) -> str:
    """Return the compressed image topic of ``camera``: ``/cam0/image_raw/compressed``."""
    return f'{image_topic(camera)}/compressed'


def info_topic(camera: str) -> str:
    """Return the camera info topic of ``camera``: ``/cam0/camera_info``."""
    return f'/{camera.strip("/")}/camera_info'


def camera_topic_roles(cameras: list[str]) -> dict[str, tuple[str, str]]:
    """
    Return ``{topic: (camera, role)}`` for every input topic, role 'image', 'compressed' or 'info'.

    Both spellings of each topic (with and without the leading slash) are keys.
    """
    roles = {}
    for camera in cameras:
        for topic, role in ((image_topic(camera), 'image'),
                            (compressed_topic(camera), 'compressed'),
                            (info_topic(camera), 'info')):
            roles[topic] = roles[topic[1:]] = (camera, role)
    return roles
