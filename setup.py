"""Build script of lim_ros (ament_python layout; also a plain `pip install -e .`)."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE_NAME = 'lim_ros'


def _share(subdir, pattern):
    """List (share/lim_ros/<subdir>, files) for the data files matching `pattern`, if any."""
    files = sorted(glob(pattern))
    return [(f'share/{PACKAGE_NAME}/{subdir}', files)] if files else []


setup(
    name=PACKAGE_NAME,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE_NAME}']),
        (f'share/{PACKAGE_NAME}', ['package.xml']),
        *_share('launch', 'launch/*.launch.py'),
        *_share('config', 'config/*.*'),
        *_share('config/train', 'config/train/*.yaml'),
        *_share('models', 'models/*.safetensors'),
    ],
    python_requires='>=3.10',
    install_requires=[
        'torch==2.13.0',
        'numpy',
        'scipy',
        'einops',
        'safetensors',
        'imageio',
        'pillow',
        'tqdm',
        'rich',
        'pyyaml',
        'scikit-image==0.26.0',
        'fast-simplification==0.2.0',
        'xatlas==0.0.11',
        'pygltflib==1.16.5',
        'rosbags==0.11.9',
        'opencv-python-headless==4.12.0.88',
        'diffusers==0.42.1',
    ],
    zip_safe=True,
    maintainer='lim_ros maintainers',
    maintainer_email='lim-ros@example.org',
    description=(
        'Live 4D reconstruction for ROS 2: feed-forward LRM triplanes from camera streams, '
        'interpolated to any timestamp by a Large Interpolator Model (LIM).'
    ),
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'lim-ros = lim_ros.cli.main:main',
            'lim_node = lim_ros.ros.lim_node:main',
        ],
    },
)
