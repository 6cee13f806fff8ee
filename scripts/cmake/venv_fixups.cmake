# Included by scripts/env.sh's build of lim_ros_msgs (CMAKE_PROJECT_INCLUDE), never by a
# normal colcon build in a ROS workspace.
#
# The ros-jazzy-* wheels were built in a manylinux container, and their exported
# <pkg>::<pkg>__rosidl_generator_py targets carry that container's Python and NumPy include
# folders (/opt/python/cp3XX-cp3XX/...) in INTERFACE_INCLUDE_DIRECTORIES. CMake refuses to
# generate when an imported target names a folder that does not exist. Once CMakeLists.txt has
# been read (a deferred call), drop such folders from every imported target: the generated
# lim_ros_msgs__rosidl_generator_py target adds the venv's own Python and NumPy include folders.

function(_lim_drop_missing_include_directories)
  get_property(targets DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(dirs "${target}" INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT dirs)
      continue()
    endif()
    set(kept)
    set(dropped)
    foreach(dir IN LISTS dirs)
      if(dir MATCHES "^\\$<" OR EXISTS "${dir}")
        list(APPEND kept "${dir}")
      else()
        list(APPEND dropped "${dir}")
      endif()
    endforeach()
    if(dropped)
      message(STATUS "lim_ros venv: ${target}: dropping missing include folders ${dropped}")
      set_target_properties("${target}" PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${kept}")
    endif()
  endforeach()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _lim_drop_missing_include_directories)
