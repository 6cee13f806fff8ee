"""
Tests of reading camera frames from bags (lim_ros.bag.reader), bad messages included.

Bad messages are counted by kind and skipped; compressed images and topic names without a
leading slash are read like raw ones.
"""

import io

from bag.bags import copy_bag, read_raw
from lim_ros.bag import BagJob, process_bag
from lim_ros.bag.reader import camera_frames, open_bag
from lim_ros.bag.summary import ErrorTally
from lim_ros.bag.writer import typestore
from lim_ros.errors import BagError
import numpy as np
from PIL import Image
import pytest


def _deserialise(msgtype, data):
    return typestore().deserialize_cdr(data, msgtype)


def _serialise(message, msgtype):
    return bytes(typestore().serialize_cdr(message, msgtype))


def _frames(path, cameras=('cam0', 'cam1', 'cam2', 'cam3')):
    errors = ErrorTally()
    with open_bag(path) as reader:
        frames = list(camera_frames(reader, list(cameras), errors))
    return frames, errors


def test_scene_bag_frames_are_rgb_with_the_rig_intrinsics(scene_bag):
    frames, errors = _frames(scene_bag[0])
    assert errors.total == 0
    assert len(frames) == 4 * len(scene_bag[1])
    camera, frame = frames[0]
    assert frame.image.shape == (64, 64, 3) and frame.image.dtype == np.uint8
    assert frame.stamp_ns == scene_bag[1][0]
    assert float(frame.K[0, 2]) == 32.0 and float(frame.K[0, 0]) > 0


def test_bad_messages_are_counted_and_skipped(tmp_path, scene_bag, params):
    stamps = scene_bag[1]

    def edit(message):
        topic, msgtype, t, data = message
        if topic == '/cam3/camera_info' and t == stamps[0]:
            return []  # cam3's first image has no CameraInfo yet
        if topic == '/cam1/image_raw' and t == stamps[1]:
            image = _deserialise(msgtype, data)
            image.encoding = 'yuv422_weird'
            return [(topic, msgtype, t, _serialise(image, msgtype))]
        if topic == '/cam2/camera_info' and t == stamps[2]:
            info = _deserialise(msgtype, data)
            info.k = np.full(9, np.nan)
            return [(topic, msgtype, t, _serialise(info, msgtype)), message]
        if topic == '/cam0/image_raw' and t == stamps[3]:
            return [(topic, msgtype, t, data[:40])]  # truncated
        if topic == '/cam1/image_raw' and t == stamps[4]:
            return [message, message]  # the same image twice: its stamp repeats
        return [message]

    copy_bag(scene_bag[0], tmp_path / 'bad', edit=edit)
    summary = process_bag(BagJob(tmp_path / 'bad', tmp_path / 'out', 2.0), params)
    assert dict(summary.errors.counts) == {'no_camera_info': 1, 'bad_image': 1,
                                           'bad_camera_info': 1, 'bad_message': 1,
                                           'bad_stamp': 1}
    assert 'repeats the previous image of camera' in summary.errors.first['bad_stamp']
    assert 'yuv422_weird' in summary.errors.first['bad_image']
    assert '/cam3/camera_info' in summary.errors.first['no_camera_info']
    assert len(summary.keyframe_stamps) >= 2 and summary.output_stamps
    assert (tmp_path / 'out' / 'metadata.yaml').exists()


def test_image_of_another_size_than_its_camera_info_is_counted(tmp_path, scene_bag):
    def edit(message):
        topic, msgtype, t, data = message
        if topic == '/cam0/camera_info':
            info = _deserialise(msgtype, data)
            info.width = info.height = 32
            return [(topic, msgtype, t, _serialise(info, msgtype))]
        return [message]

    copy_bag(scene_bag[0], tmp_path / 'bag', edit=edit)
    frames, errors = _frames(tmp_path / 'bag')
    assert dict(errors.counts) == {'bad_camera_info': len(scene_bag[1])}
    assert {camera for camera, _ in frames} == {'cam1', 'cam2', 'cam3'}


def test_compressed_images_and_relative_topic_names(tmp_path, scene_bag):
    compressed = 'sensor_msgs/msg/CompressedImage'
    types = typestore().types

    def edit(message):
        topic, msgtype, t, data = message
        if topic == '/cam0/image_raw':
            image = _deserialise(msgtype, data)
            png = io.BytesIO()
            Image.fromarray(image.data.reshape(image.height, image.width, 3)).save(png, 'png')
            message = types[compressed](header=image.header, format='rgb8; png compressed rgb8',
                                        data=np.frombuffer(png.getvalue(), np.uint8))
            return [(topic + '/compressed', compressed, t, _serialise(message, compressed))]
        return [(topic.lstrip('/'), msgtype, t, data)]

    copy_bag(scene_bag[0], tmp_path / 'bag', edit=edit)
    assert {topic for topic, *_ in read_raw(tmp_path / 'bag')} >= {
        '/cam0/image_raw/compressed', 'cam1/image_raw', 'cam0/camera_info'}
    frames, errors = _frames(tmp_path / 'bag')
    reference, _ = _frames(scene_bag[0])
    assert errors.total == 0 and len(frames) == len(reference)
    for (camera, frame), (ref_camera, ref_frame) in zip(frames, reference):
        assert camera == ref_camera and frame.stamp_ns == ref_frame.stamp_ns
        assert np.array_equal(frame.image, ref_frame.image)  # png is lossless


def test_huge_compressed_image_is_counted_not_decoded(tmp_path, scene_bag):
    compressed = 'sensor_msgs/msg/CompressedImage'
    bomb = io.BytesIO()
    Image.new('1', (20000, 10000)).save(bomb, 'png')  # 2e8 pixels in 24 kB

    def edit(message):
        topic, msgtype, t, data = message
        if topic == '/cam0/image_raw' and t == scene_bag[1][1]:
            header = _deserialise(msgtype, data).header
            message = typestore().types[compressed](
                header=header, format='png', data=np.frombuffer(bomb.getvalue(), np.uint8))
            return [(topic + '/compressed', compressed, t, _serialise(message, compressed))]
        return [message]

    copy_bag(scene_bag[0], tmp_path / 'bag', edit=edit)
    frames, errors = _frames(tmp_path / 'bag')
    assert dict(errors.counts) == {'bad_image': 1}
    assert 'at most 8192 px a side' in errors.first['bad_image']
    assert len(frames) == 4 * len(scene_bag[1]) - 1


def test_bag_with_no_usable_frames_is_a_bag_error(tmp_path, scene_bag, params):
    copy_bag(scene_bag[0], tmp_path / 'bag',
             edit=lambda m: [] if m[0].endswith('camera_info') else [m])
    with pytest.raises(BagError, match='no usable camera frames.*no_camera_info: 20'):
        process_bag(BagJob(tmp_path / 'bag', tmp_path / 'out', 2.0), params)
    assert not (tmp_path / 'out').exists()


def test_not_a_bag_is_a_bag_error(tmp_path):
    (tmp_path / 'folder').mkdir()
    with pytest.raises(BagError, match='not a readable rosbag2'):
        with open_bag(tmp_path / 'folder'):
            pass
