# shellcheck shell=bash
# Set up (idempotently) and activate lim_ros's environment. Source it; do not run it:
#
#   source scripts/env.sh
#
# What it does, each step only when needed, so a second run takes well under a second:
#   1. installs the Debian packages in LIM_DEBIAN_PACKAGES that are missing (apt-get; needs
#      root or password-less sudo; LIM_SKIP_APT=1 skips this step);
#   2. creates the virtual environment .venv in the repository root (LIM_PYTHON picks the
#      interpreter, default python3; CPython 3.10-3.12, the versions ros-jazzy-* wheels exist for);
#   3. pip-installs `-e .`, requirements-test.txt and requirements-build.txt into it, again only
#      when setup.py, setup.cfg or a requirements file changed since the last successful install;
#   4. builds the interface package lim_ros_msgs/ (ament_cmake + rosidl, in build/lim_ros_msgs)
#      and installs it into .venv, only when its files changed since the last successful build
#      (or step 3 installed anything); LIM_BUILD_JOBS sets the parallel jobs (default 2);
#   5. registers lim_ros in the venv's ament index (share/lim_ros links to the checkout);
#   6. exports the environment real ROS 2 from the ros-jazzy-* wheels needs (see below).
# Works without a terminal (CI), as root, and under `set -euo pipefail` in the caller.

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
    echo 'scripts/env.sh must be sourced: source scripts/env.sh' >&2
    exit 1
fi

LIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LIM_ROOT

# Debian packages, checked with dpkg-query, installed only if missing.
#   libusb-1.0-0: open3d loads it when imported.
#   cmake, make, gcc, g++: build lim_ros_msgs (rosidl generates C and C++ type support).
#   python3-dev: Python.h for lim_ros_msgs's Python extension, when the venv's interpreter is
#     Debian's python3 (other interpreters, e.g. pyenv's, ship their own headers).
LIM_DEBIAN_PACKAGES=(libusb-1.0-0 cmake make gcc g++ python3-dev)

_lim_log() {
    printf '[lim_ros env] %s\n' "$*" >&2
}

_lim_ensure_debian_packages() {
    local pkg status
    local -a missing=() sudo=() apt=()
    if [[ "${LIM_SKIP_APT:-0}" == 1 ]]; then
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        _lim_log "no dpkg-query (not Debian?): make sure these are installed: ${LIM_DEBIAN_PACKAGES[*]}"
        return 0
    fi
    for pkg in "${LIM_DEBIAN_PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null || true)"
        if [[ "${status}" != 'install ok installed' ]]; then
            missing+=("${pkg}")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            _lim_log "missing Debian packages ${missing[*]}: install them as root" \
                '(apt-get install ...) or set LIM_SKIP_APT=1 to go on without them'
            return 1
        fi
    fi
    _lim_log "installing Debian packages: ${missing[*]}"
    apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
    if "${apt[@]}" install --no-install-recommends "${missing[@]}" </dev/null >/dev/null; then
        return 0
    fi
    _lim_log 'apt-get install failed; running apt-get update and trying again'
    if "${apt[@]}" update </dev/null >/dev/null \
        && "${apt[@]}" install --no-install-recommends "${missing[@]}" </dev/null >/dev/null; then
        return 0
    fi
    _lim_log "could not install Debian packages: ${missing[*]}"
    return 1
}

_lim_ensure_venv() {
    local venv="${LIM_ROOT}/.venv"
    local python="${LIM_PYTHON:-python3}"
    if [[ -x "${venv}/bin/python" ]] && "${venv}/bin/python" -c '' >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v "${python}" >/dev/null 2>&1; then
        _lim_log "no ${python} on PATH (set LIM_PYTHON to a CPython 3.10-3.12 interpreter)"
        return 1
    fi
    if ! "${python}" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))'
    then
        _lim_log "$("${python}" --version 2>&1) found; ros-jazzy-* wheels need CPython 3.10-3.12" \
            '(set LIM_PYTHON)'
        return 1
    fi
    _lim_log "creating .venv with $("${python}" --version 2>&1)"
    rm -rf "${venv}"
    "${python}" -m venv "${venv}" </dev/null
}

_lim_install_hash() {
    (cd "${LIM_ROOT}" && cat setup.py setup.cfg requirements-test.txt requirements-build.txt) \
        | sha256sum | cut -d' ' -f1
}

_lim_ensure_python_packages() {
    local venv="${LIM_ROOT}/.venv"
    local stamp="${venv}/.lim-install-stamp"
    local want have rc start
    want="$(_lim_install_hash)" || return 1
    have="$(cat "${stamp}" 2>/dev/null || true)"
    if [[ "${want}" == "${have}" ]]; then
        return 0
    fi
    _lim_log 'installing -e ., requirements-test.txt and requirements-build.txt into .venv' \
        '(a few minutes the first time)'
    start="${SECONDS}"
    # The local registry mirrors make pip warn once per package about an index location it
    # skips; that line is dropped, everything else pip says is kept.
    (cd "${LIM_ROOT}" && PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "${venv}/bin/python" -m pip install -q -e . -r requirements-test.txt \
        -r requirements-build.txt </dev/null) 2>&1 \
        | sed -e '/is ignored: it is neither a file nor a directory/d' >&2
    rc="${PIPESTATUS[0]}"
    if ((rc != 0)); then
        _lim_log "pip install failed (exit ${rc})"
        return 1
    fi
    printf '%s\n' "${want}" >"${stamp}"
    _lim_log "python packages installed in $((SECONDS - start)) s"
}

_lim_interfaces_hash() {
    # What the installed lim_ros_msgs depends on: its files (names and contents), the CMake
    # fix-ups of the venv build, and the Python packages it was built against (their stamp).
    (cd "${LIM_ROOT}" && find lim_ros_msgs scripts/cmake -type f -print0 | LC_ALL=C sort -z \
        | xargs -0 sha256sum && cat .venv/.lim-install-stamp) | sha256sum | cut -d' ' -f1
}

_lim_uninstall_interfaces() {
    # Remove what the last build installed into .venv (its CMake install manifest), so a
    # message or service deleted from lim_ros_msgs/ does not linger there.
    local venv="${LIM_ROOT}/.venv"
    local manifest="${venv}/.lim-msgs-install-manifest"
    local file
    if [[ -f "${manifest}" ]]; then
        while IFS= read -r file; do
            case "${file}" in
                "${venv}"/*) rm -f "${file}" ;;
            esac
        done <"${manifest}"
        rm -f "${manifest}"
    fi
    rm -rf "${venv}"/lib/python3.*/site-packages/lim_ros_msgs
}

_lim_ensure_interfaces() {
    # Build lim_ros_msgs/ as colcon would (cmake configure, build, install), with .venv as the
    # only underlay and the install prefix: its libraries land in .venv/lib (on the library
    # path the ros-jazzy-* wheels set up), its Python package in the venv's site-packages and
    # its ament index entries in .venv/share, where AMENT_PREFIX_PATH=.venv finds them.
    local venv="${LIM_ROOT}/.venv"
    local stamp="${venv}/.lim-msgs-stamp"
    local build="${LIM_ROOT}/build/lim_ros_msgs"
    local log="${build}.log"
    local want have start
    want="$(_lim_interfaces_hash)" || return 1
    have="$(cat "${stamp}" 2>/dev/null || true)"
    if [[ "${want}" == "${have}" ]]; then
        return 0
    fi
    _lim_log "building lim_ros_msgs into .venv (cmake, ${LIM_BUILD_JOBS:-2} jobs)"
    start="${SECONDS}"
    rm -f "${stamp}"
    _lim_uninstall_interfaces
    rm -rf "${build}"
    # build/ holds no package for colcon or the ament linters to find (colcon marks it too).
    mkdir -p "${build}" && : >"${LIM_ROOT}/build/COLCON_IGNORE" \
        && : >"${LIM_ROOT}/build/AMENT_IGNORE" || return 1
    if ! (
        cd "${LIM_ROOT}" || exit 1
        unset PYTHONPATH PYTHONHOME
        export PATH="${venv}/bin:${PATH}" AMENT_PREFIX_PATH="${venv}" CMAKE_PREFIX_PATH="${venv}"
        cmake -S lim_ros_msgs -B "${build}" \
            -DCMAKE_INSTALL_PREFIX="${venv}" \
            -DCMAKE_BUILD_TYPE=Release \
            -DBUILD_TESTING=OFF \
            -DPython3_EXECUTABLE="${venv}/bin/python" \
            -DCMAKE_PROJECT_INCLUDE="${LIM_ROOT}/scripts/cmake/venv_fixups.cmake" \
            && cmake --build "${build}" -j "${LIM_BUILD_JOBS:-2}" \
            && cmake --install "${build}"
    ) </dev/null >"${log}" 2>&1; then
        _lim_log "building lim_ros_msgs failed; the end of ${log#"${LIM_ROOT}"/}:"
        tail -n 25 "${log}" >&2
        return 1
    fi
    cp "${build}/install_manifest.txt" "${venv}/.lim-msgs-install-manifest" || return 1
    printf '%s\n' "${want}" >"${stamp}"
    _lim_log "lim_ros_msgs built and installed in $((SECONDS - start)) s" \
        "(log: ${log#"${LIM_ROOT}"/})"
}

_lim_register_ament_package() {
    # `pip install -e .` installs no data_files, so register lim_ros in the venv's ament index
    # by hand, the way `colcon build --symlink-install` would: get_package_share_directory()
    # then finds package.xml, config/ and launch/ (symlinks into the checkout).
    local share="${LIM_ROOT}/.venv/share"
    local item
    # The venv holds a package.xml per ROS package it installed: keep colcon (when this
    # checkout sits in a workspace) and the ament linters from crawling into it.
    : >"${LIM_ROOT}/.venv/COLCON_IGNORE" && : >"${LIM_ROOT}/.venv/AMENT_IGNORE" || return 1
    mkdir -p "${share}/ament_index/resource_index/packages" "${share}/lim_ros" || return 1
    : >"${share}/ament_index/resource_index/packages/lim_ros" || return 1
    for item in package.xml config launch; do
        if [[ -e "${LIM_ROOT}/${item}" ]]; then
            ln -sfn "${LIM_ROOT}/${item}" "${share}/lim_ros/${item}" || return 1
        fi
    done
    # Links whose target left the checkout (msg/ did, for lim_ros_msgs) go.
    for item in "${share}"/lim_ros/*; do
        if [[ -L "${item}" && ! -e "${item}" ]]; then
            rm -f "${item}" || return 1
        fi
    done
}

_lim_export_environment() {
    export VIRTUAL_ENV="${LIM_ROOT}/.venv"
    case ":${PATH}:" in
        *":${VIRTUAL_ENV}/bin:"*) ;;
        *) export PATH="${VIRTUAL_ENV}/bin:${PATH}" ;;
    esac
    unset PYTHONHOME
    # Real ROS 2 from the ros-jazzy-* wheels: the venv is the one ament prefix (package index,
    # message type support, rmw); discovery stays on this machine, in a domain of its own per
    # run unless the caller chose one, so parallel runs do not hear each other.
    export AMENT_PREFIX_PATH="${VIRTUAL_ENV}"
    export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
    export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$((RANDOM % 100 + 1))}"
    export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
    export ROS_LOG_DIR="${ROS_LOG_DIR:-${LIM_ROOT}/log/ros}"
    export PYTHONUNBUFFERED=1
    if [[ "${PYTHONPATH:-}" == */opt/ros/* ]]; then
        _lim_log 'warning: PYTHONPATH points into /opt/ros (a sourced ROS install); its packages' \
            'shadow the ones in .venv'
    fi
}

_lim_env_setup() {
    local lock_fd rc=0
    # One set-up at a time per checkout (e.g. demo.sh and test.sh started together).
    if command -v flock >/dev/null 2>&1; then
        exec {lock_fd}>"${LIM_ROOT}/.venv.lock"
        flock "${lock_fd}"
    fi
    _lim_ensure_debian_packages && _lim_ensure_venv && _lim_ensure_python_packages \
        && _lim_ensure_interfaces && _lim_register_ament_package || rc=1
    if [[ -n "${lock_fd:-}" ]]; then
        exec {lock_fd}>&-
    fi
    return "${rc}"
}

if ! _lim_env_setup; then
    _lim_log 'set-up failed'
    return 1
fi
_lim_export_environment
_lim_log "ready: .venv ($("${VIRTUAL_ENV}/bin/python" --version 2>&1)), ROS_DOMAIN_ID=${ROS_DOMAIN_ID}"
