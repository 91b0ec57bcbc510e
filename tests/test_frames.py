import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gait.errors import GaitError
from gait.frames import MOUNT_PRESETS, parse_mount, random_rotation, rotation_between


@pytest.mark.parametrize("name", sorted(MOUNT_PRESETS))
def test_presets_are_proper_rotations(name):
    m = parse_mount(name)
    assert np.allclose(m.R @ m.R.T, np.eye(3))
    assert np.isclose(np.linalg.det(m.R), 1.0)
    # the mapping text round-trips to the same matrix
    assert np.array_equal(parse_mount(m.mapping).R, m.R)


def test_mapping_maps_named_axes():
    m = parse_mount("x=up,y=backward,z=right")
    # a sensor reading of gravity on +x (x points up) is "up" in the body frame
    assert np.allclose(m.to_body(np.array([[9.81, 0, 0]])), [[0, 0, 9.81]])
    assert np.allclose(m.to_body(np.array([[0, 1.0, 0]])), [[-1.0, 0, 0]])
    assert np.allclose(m.to_body(np.array([[0, 0, 1.0]])), [[0, -1.0, 0]])


def test_third_axis_completed_right_handed():
    assert parse_mount("x=forward,z=up").mapping == "x=forward,y=left,z=up"
    assert parse_mount("y=up,z=forward").mapping == "x=left,y=up,z=forward"


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("sideways-ish", "unknown mount"),
        ("x=forward,y=forward,z=up", "same body axis"),
        ("x=forward,y=right,z=up", "left-handed"),
        ("x=forward,x=left", "given twice"),
        ("w=forward,y=left", "x, y or z"),
        ("x=north,y=left", "direction must be"),
        ("x=forward", "at least two"),
    ],
)
def test_bad_mounts_give_one_line_errors(spec, fragment):
    with pytest.raises(GaitError) as e:
        parse_mount(spec)
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_none_and_mount_pass_through():
    assert parse_mount(None) is None
    m = parse_mount("body")
    assert parse_mount(m) is m


def test_turned_180_swaps_forward_and_left():
    m = parse_mount("body").turned_180()
    assert m.mapping == "x=backward,y=right,z=up"


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_random_rotation_and_rotation_between(seed):
    rng = np.random.default_rng(seed)
    R = random_rotation(rng)
    assert np.allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.isclose(np.linalg.det(R), 1.0)
    a, b = rng.normal(size=3), rng.normal(size=3)
    Q = rotation_between(a, b)
    assert np.allclose(Q @ (a / np.linalg.norm(a)), b / np.linalg.norm(b), atol=1e-9)
    assert np.allclose(Q @ Q.T, np.eye(3), atol=1e-9)


def test_rotation_between_opposite_vectors():
    Q = rotation_between(np.array([0, 0, 1.0]), np.array([0, 0, -1.0]))
    assert np.allclose(Q @ [0, 0, 1.0], [0, 0, -1.0])
    assert np.isclose(np.linalg.det(Q), 1.0)
