import math

import cv2
import numpy as np
import pytest

from vidpred.data.synthetic import (
    Layer,
    Motion,
    Scene,
    generate_synthetic_video,
    render_scene,
    sample_scene,
    synthetic_seeds,
)

T, H, W = 6, 40, 48


def _noise_photo(height=120, width=160, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _still_scene(**changes):
    defaults = dict(background=0, photo_scale=1.0, centre=(80.0, 60.0), magnification=1.0, camera=Motion(),
                    shake=np.zeros((T, 2)))
    return Scene(**{**defaults, **changes})


def _disc(size):
    centre, radius = (size - 1) / 2, size / 2 - 1
    angles = np.linspace(0, 2 * math.pi, 64, endpoint=False)
    return np.stack([centre + radius * np.cos(angles), centre + radius * np.sin(angles)], axis=1)


def test_integer_pan_equals_the_shifted_photo():
    photo = _noise_photo()
    offset_x, offset_y, step = 30, 20, 3  # frame 0 shows photo[20:60, 30:78]
    centre = (offset_x + (W - 1) / 2, offset_y + (H - 1) / 2)
    scene = _still_scene(centre=centre, camera=Motion(velocity=((step, 0.0), (step, 0.0))))
    video = render_scene(scene, [photo], T, H, W)
    assert video.shape == (T, H, W, 3) and video.dtype == np.uint8
    for t in range(T):
        # Content moves right by 3 px per frame: pixel x of frame t is photo column offset_x + x - 3t.
        expected = photo[offset_y:offset_y + H, offset_x - step * t:offset_x - step * t + W]
        np.testing.assert_array_equal(video[t], expected)


def test_the_background_reflects_at_the_photo_s_edge():
    # Frame column x shows photo column x - 5: columns 0..4 fall left of the photo and show
    # its columns 4..0 mirrored (the edge pixel repeated, as cv2.BORDER_REFLECT), not black.
    photo = _noise_photo()
    centre = ((W - 1) / 2 - 5, 20 + (H - 1) / 2)
    frame = render_scene(_still_scene(centre=centre), [photo], T, H, W)[0]
    np.testing.assert_array_equal(frame[:, 5:], photo[20:20 + H, :W - 5])
    np.testing.assert_array_equal(frame[:, :5], photo[20:20 + H, 4::-1])


def test_a_still_scene_repeats_its_first_frame():
    video = render_scene(_still_scene(), [_noise_photo()], T, H, W)
    assert (video == video[:1]).all()


def test_front_layer_occludes_the_back_one_and_the_background():
    red, blue = np.zeros((50, 50, 3), np.uint8), np.zeros((50, 50, 3), np.uint8)
    red[..., 0], blue[..., 2] = 255, 255
    photos = [np.full((120, 160, 3), 100, np.uint8), red, blue]
    back = Layer(photo=1, corner=(0, 0), size=20, outline=_disc(20), position=(20.0, 20.0))
    front = Layer(photo=2, corner=(0, 0), size=20, outline=_disc(20), position=(28.0, 20.0))
    for layers, middle in (((back, front), (0, 0, 255)), ((front, back), (255, 0, 0))):
        video = render_scene(_still_scene(layers=layers), photos, T, H, W)
        assert tuple(video[0, 20, 24]) == middle  # inside both discs: the later (front) layer
        assert tuple(video[0, 20, 12]) == (255, 0, 0)  # only in the red disc
        assert tuple(video[0, 20, 36]) == (0, 0, 255)  # only in the blue disc
        assert tuple(video[0, 5, 5]) == (100, 100, 100)  # outside both: the background


def test_a_layer_moves_at_its_own_velocity_over_a_still_background():
    white = np.full((30, 30, 3), 255, np.uint8)
    layer = Layer(photo=1, corner=(0, 0), size=12, outline=_disc(12), position=(10.0, 20.0),
                  motion=Motion(velocity=((4.0, 0.0), (4.0, 0.0))))
    video = render_scene(_still_scene(layers=(layer,)), [np.zeros((120, 160, 3), np.uint8), white], T, H, W)
    for t in range(T):
        columns = np.nonzero(video[t, 20, :, 0] == 255)[0]
        assert columns.mean() == pytest.approx(10.0 + 4.0 * t, abs=0.01)


def test_a_wandering_layer_adds_its_wander_to_its_path():
    white = np.full((30, 30, 3), 255, np.uint8)
    wander = np.array([[0.0, 0.0], [3.0, 0.0], [1.0, 0.0], [-2.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    layer = Layer(photo=1, corner=(0, 0), size=12, outline=_disc(12), position=(10.0, 20.0),
                  motion=Motion(velocity=((4.0, 0.0), (4.0, 0.0))), wander=wander)
    video = render_scene(_still_scene(layers=(layer,)), [np.zeros((120, 160, 3), np.uint8), white], T, H, W)
    for t in range(T):
        columns = np.nonzero(video[t, 20, :, 0] == 255)[0]
        assert columns.mean() == pytest.approx(10.0 + 4.0 * t + wander[t, 0], abs=0.01)


def test_wander_steps_are_a_damped_random_walk():
    from vidpred.data.synthetic import _wander

    offsets = _wander(np.random.default_rng(0), 400, 2.0)
    steps = np.diff(offsets, axis=0)
    assert offsets.shape == (400, 2) and (offsets[0] == 0).all() and steps.std() > 0.1
    # Each step is the one before times a memory in [0, 0.9] plus a fresh kick: the least-squares
    # memory over 400 frames is inside that range, so the best forecast of a step is a damped last step.
    memory = float((steps[:-1] * steps[1:]).sum() / (steps[:-1] ** 2).sum())
    assert -0.15 < memory < 0.95


def test_videos_without_wander_do_not_change_and_with_it_stay_deterministic():
    photos = [_noise_photo(300, 400, seed) for seed in range(3)]
    only_wander = wanderers = 0
    for seed in range(20):
        plain = sample_scene(np.random.default_rng(seed), photos, 12, 64, 64)
        assert all(layer.wander is None for layer in plain.layers)
        wandering = sample_scene(np.random.default_rng(seed), photos, 12, 64, 64, max_wander=1.5)
        again = sample_scene(np.random.default_rng(seed), photos, 12, 64, 64, max_wander=1.5)
        # The same draws up to the first moving layer's wander: the background does not change.
        assert wandering.background == plain.background and wandering.centre == plain.centre
        for a, b in zip(wandering.layers, again.layers):
            assert a.motion == b.motion and (a.wander is None) == (b.wander is None)
            assert a.wander is not None or a.motion == Motion()  # every moving layer wanders
            if a.wander is not None:
                np.testing.assert_array_equal(a.wander, b.wander)
                only_wander += a.motion == Motion()
                wanderers += 1
    assert 0 < only_wander < wanderers  # some layers only wander, others also fly
    with pytest.raises(ValueError, match="max_wander"):
        generate_synthetic_video(0, 4, 32, 32, max_wander=-1.0)


def test_constant_acceleration_path():
    offset, log_scale, angle = Motion(velocity=((0.0, 1.0), (4.0, 1.0)), zoom=(0.01, 0.01)).path(5)
    # Rate x goes 0 -> 4 over frames 0..4 (acceleration 1): x(t) = t^2 / 2.
    np.testing.assert_allclose(offset[:, 0], [0.0, 0.5, 2.0, 4.5, 8.0])
    np.testing.assert_allclose(offset[:, 1], [0.0, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(log_scale, 0.01 * np.arange(5))
    assert (angle == 0).all()


def test_gain_scales_the_frames():
    photo = np.full((120, 160, 3), 100, np.uint8)
    video = render_scene(_still_scene(gain=(1.0, 2.0), shake=np.zeros((5, 2))), [photo], 5, H, W)
    assert video[:, 0, 0, 0].tolist() == [100, 119, 141, 168, 200]  # 100 * 2^(t/4), rounded
    # From 0.5 to 2: 100 * 0.5 * 4^(t/4) = 50, 70.7, 100, 141.4, 200.
    video = render_scene(_still_scene(gain=(0.5, 2.0), shake=np.zeros((5, 2))), [photo], 5, H, W)
    assert video[:, 0, 0, 0].tolist() == [50, 71, 100, 141, 200]


def test_gain_and_noise_saturate_at_black_and_white():
    # 250 * 1.2 = 300 is white (255), not wrapped around to a dark value.
    bright = render_scene(_still_scene(gain=(1.2, 1.2)), [np.full((120, 160, 3), 250, np.uint8)], T, H, W)
    assert (bright == 255).all()
    # Noise of sigma 20 on black: the negative half is 0, not wrapped around to near-white.
    dark = render_scene(_still_scene(noise_sigma=20.0, noise_seed=1), [np.zeros((120, 160, 3), np.uint8)], T, H, W)
    assert 0.4 < (dark == 0).mean() < 0.6 and dark.max() < 128


def test_noise_and_jpeg_change_the_frames_by_about_their_size():
    photo = np.full((120, 160, 3), 128, np.uint8)
    noisy = render_scene(_still_scene(noise_sigma=5.0), [photo], T, H, W).astype(float)
    assert np.std(noisy - 128) == pytest.approx(5.0, rel=0.05)
    textured = _noise_photo()
    clean = render_scene(_still_scene(), [textured], T, H, W).astype(float)
    compressed = render_scene(_still_scene(jpeg_quality=30), [textured], T, H, W).astype(float)
    assert 5 < np.abs(compressed - clean).mean() < 80


def test_same_seed_same_bytes_different_seeds_differ():
    a = generate_synthetic_video(3, 8, 64, 64)
    b = generate_synthetic_video(3, 8, 64, 64)
    c = generate_synthetic_video(4, 8, 64, 64)
    assert a.shape == (8, 64, 64, 3) and a.dtype == np.uint8
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)


def test_speeds_span_still_to_fast_with_a_share_of_still_cameras():
    photos = [_noise_photo(300, 400)]
    speeds, still = [], 0
    for seed in range(400):
        scene = sample_scene(np.random.default_rng(seed), photos, 24, 256, 256, max_speed=12.0, still_fraction=0.2)
        (v0, v1) = np.asarray(scene.camera.velocity)
        speeds.append(max(np.hypot(*v0), np.hypot(*v1)))
        still += scene.camera == Motion() and not scene.shake.any()
    assert 0.13 < still / 400 < 0.27
    assert max(speeds) > 10.0 and max(speeds) <= 12.0
    assert np.mean(np.array(speeds) < 1.0) > 0.3  # still and slow cameras are common


def test_the_camera_path_stays_inside_the_photo():
    photo = _noise_photo(300, 400)
    for seed in range(50):
        scene = sample_scene(np.random.default_rng(seed), [photo], 24, 128, 128, max_rotation=0.0, max_zoom=0.0,
                             max_shake=0.0)
        offset, _, _ = scene.camera.path(24)
        size = np.array([400, 300]) * scene.photo_scale
        for t in (0, 23):  # frame corners mapped back into the (resized) photo
            corners = (np.array([[-0.5, -0.5], [127.5, 127.5]]) - 63.5 - offset[t]) / scene.magnification
            corners += scene.centre
            assert (corners >= -1e-6).all() and (corners <= size + 1e-6).all()


def test_photos_from_a_folder(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), _noise_photo(60, 80))
    cv2.imwrite(str(tmp_path / "b.jpg"), _noise_photo(60, 80, seed=1))
    video = generate_synthetic_video(0, 4, 32, 32, photos=tmp_path)
    assert video.shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(video, generate_synthetic_video(0, 4, 32, 32, photos=str(tmp_path)))


def test_seeds_and_argument_errors():
    assert synthetic_seeds(2, 3) == [2_000_000, 2_000_001, 2_000_002]
    with pytest.raises(ValueError, match="a frame of at least 8x8, got seed 0, 4x4x32"):
        generate_synthetic_video(0, 4, 4, 32)
    with pytest.raises(ValueError, match="max_speed, .* must be >= 0"):
        generate_synthetic_video(0, 4, 32, 32, max_speed=-1.0)


def test_the_smallest_frame_and_the_fractions_ends_are_accepted():
    assert generate_synthetic_video(0, 2, 8, 8).shape == (2, 8, 8, 3)
    for height, width in ((7, 8), (8, 7)):
        with pytest.raises(ValueError, match=f"at least 8x8, got seed 0, 2x{height}x{width}"):
            generate_synthetic_video(0, 2, height, width)
    for fraction in (0.0, 1.0):
        assert generate_synthetic_video(0, 2, 16, 16, still_fraction=fraction, jpeg_fraction=fraction).shape == (2, 16, 16, 3)
    for fraction in (-0.1, 1.1):
        with pytest.raises(ValueError, match="still_fraction and jpeg_fraction must be in"):
            generate_synthetic_video(0, 2, 16, 16, still_fraction=fraction)
        with pytest.raises(ValueError, match="still_fraction and jpeg_fraction must be in"):
            generate_synthetic_video(0, 2, 16, 16, jpeg_fraction=fraction)


def test_fractions_0_and_1_are_none_and_all():
    photos = [_noise_photo(300, 400, seed) for seed in range(2)]
    for seed in range(10):
        still = sample_scene(np.random.default_rng(seed), photos, 6, 64, 64, still_fraction=1.0, jpeg_fraction=1.0,
                             max_layers=2, max_wander=1.0)
        assert still.camera == Motion() and not still.shake.any() and still.jpeg_quality is not None
        assert all(layer.motion == Motion() and layer.wander is None for layer in still.layers)
        moving = sample_scene(np.random.default_rng(seed), photos, 6, 64, 64, still_fraction=0.0, jpeg_fraction=0.0)
        assert moving.camera != Motion() and moving.jpeg_quality is None



def _dot_photo(x, y, height=120, width=160):
    """Black photo with a small Gaussian spot centred on pixel (x, y)."""
    yy, xx = np.mgrid[0:height, 0:width]
    spot = 255 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2))
    return np.repeat(np.rint(spot).astype(np.uint8)[:, :, None], 3, axis=2)


def _spot(frame):
    weights = frame[:, :, 0].astype(float)
    yy, xx = np.mgrid[0:frame.shape[0], 0:frame.shape[1]]
    return np.array([(weights * xx).sum(), (weights * yy).sum()]) / weights.sum()


@pytest.mark.parametrize("camera, shake, expected", [
    # The spot starts 8 px right of the frame centre (23.5, 19.5).
    (Motion(zoom=(0.05, 0.05)), np.zeros((4, 2)), lambda t: (23.5 + 8 * math.exp(0.05 * t), 19.5)),
    # Positive rotation turns x towards y: the spot goes down the screen.
    (Motion(rotation=(0.2, 0.2)), np.zeros((4, 2)),
     lambda t: (23.5 + 8 * math.cos(0.2 * t), 19.5 + 8 * math.sin(0.2 * t))),
    (Motion(), np.array([[0.0, 0.0], [2.0, 1.0], [-1.0, 3.0], [0.5, -2.0]]), None),
])
def test_zoom_rotation_and_shake_move_the_content_as_documented(camera, shake, expected):
    scene = _still_scene(centre=(72.0, 60.0), camera=camera, shake=shake)
    video = render_scene(scene, [_dot_photo(80, 60)], 4, H, W)
    for t in range(4):
        want = expected(t) if expected else (31.5 + shake[t, 0], 19.5 + shake[t, 1])
        np.testing.assert_allclose(_spot(video[t]), want, atol=0.1)


def test_a_layer_turns_by_its_rotation_rate():
    # The layer's photo has its spot 5 px right of the sprite centre (12, 12) of a 25 px sprite.
    layer = Layer(photo=1, corner=(0, 0), size=25, outline=_disc(25), position=(20.0, 18.0),
                  motion=Motion(rotation=(0.25, 0.25)))
    photos = [np.zeros((120, 160, 3), np.uint8), _dot_photo(17, 12, 40, 40)]
    video = render_scene(_still_scene(layers=(layer,), shake=np.zeros((4, 2))), photos, 4, H, W)
    for t in range(4):
        np.testing.assert_allclose(_spot(video[t]), (20 + 5 * math.cos(0.25 * t), 18 + 5 * math.sin(0.25 * t)),
                                   atol=0.1)


def test_a_layer_is_drawn_as_warping_its_cut_out_over_the_whole_frame_would():
    from vidpred.data.synthetic import _similarity, _sprite

    photos = [_noise_photo(seed=1), _noise_photo(60, 60, seed=2)]
    layer = Layer(photo=1, corner=(5, 7), size=22, outline=_disc(22), position=(17.3, 21.6), angle=0.7,
                  motion=Motion(velocity=((2.5, -1.5), (2.5, -1.5)), zoom=(0.1, 0.1), rotation=(0.3, 0.3)))
    video = render_scene(_still_scene(layers=(layer,), shake=np.zeros((4, 2))), photos, 4, H, W)
    background = render_scene(_still_scene(shake=np.zeros((4, 2))), photos, 4, H, W).astype(np.float32)
    sprite = _sprite(layer, photos[1])
    for t in range(4):
        warp = _similarity(math.exp(0.1 * t), 0.7 + 0.3 * t, np.full(2, 10.5), np.array([17.3 + 2.5 * t, 21.6 - 1.5 * t]))
        whole = cv2.warpAffine(sprite, warp, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        expected = np.clip(np.rint(background[t] * (1 - whole[:, :, 3:]) + whole[:, :, :3]), 0, 255)
        np.testing.assert_array_equal(video[t], expected.astype(np.uint8))
    # The cut-out's corners (outside the disc) show the background, not the rest of the photo.
    still = render_scene(_still_scene(layers=(Layer(photo=1, corner=(5, 7), size=22, outline=_disc(22),
                                                    position=(20.0, 20.0)),), shake=np.zeros((1, 2))), photos, 1, H, W)
    np.testing.assert_array_equal(still[0, 10, 10], background[0, 10, 10].astype(np.uint8))


def test_a_background_photo_scale_shows_the_photo_resized():
    # Each 2x2 block of the photo is one colour, so halving it by area averaging gives the small photo exactly.
    small = _noise_photo(60, 80)
    photo = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)
    scene = _still_scene(photo_scale=0.5, centre=((W - 1) / 2, (H - 1) / 2), shake=np.zeros((2, 2)))
    video = render_scene(scene, [photo], 2, H, W)
    np.testing.assert_array_equal(video[0], small[:H, :W])  # the frame's centre on the resized photo's
    np.testing.assert_array_equal(video[1], small[:H, :W])


def test_an_ellipse_outline_is_an_ellipse_of_the_radius():
    from vidpred.data.synthetic import _outline

    ellipses, star_angles = 0, []
    for seed in range(20):
        points = _outline(np.random.default_rng(seed), 10.0, 15.0) - 15.0
        distance = np.hypot(points[:, 0], points[:, 1])
        if len(points) != 48:  # a star: 5 to 12 vertices at 0.5 to 1 times the radius, at any angle
            assert 5 <= len(points) <= 12 and (distance >= 5.0 - 1e-9).all() and (distance <= 10.0 + 1e-9).all()
            star_angles.extend(np.mod(np.arctan2(points[:, 1], points[:, 0]), 2 * math.pi))
            continue
        ellipses += 1
        # 48 vertices at evenly spaced angles, on a x^2 + b xy + c y^2 = 1 (an ellipse centred on the centre).
        angles = np.mod(np.arctan2(points[:, 1], points[:, 0]), 2 * math.pi)
        np.testing.assert_allclose(np.sort(angles), np.arange(48) * 2 * math.pi / 48, atol=1e-9)
        design = np.stack([points[:, 0] ** 2, points[:, 0] * points[:, 1], points[:, 1] ** 2], axis=1)
        (a, b, c), *_ = np.linalg.lstsq(design, np.ones(48), rcond=None)
        np.testing.assert_allclose(design @ (a, b, c), 1.0, atol=1e-9)
        minor, major = 1 / np.sqrt(np.linalg.eigvalsh([[a, b / 2], [b / 2, c]])[::-1])
        assert major == pytest.approx(10.0) and 0.4 * 10.0 - 1e-9 <= minor <= 10.0  # semi-axes radius, ratio * radius
    assert ellipses >= 5
    # The stars' vertices, together, lie all around the circle (every eighth of it holds some).
    assert len(star_angles) > 40 and set(np.floor(np.array(star_angles) / (2 * math.pi / 8)).astype(int)) == set(range(8))


def test_a_still_camera_s_view_is_placed_anywhere_in_the_photo():
    photos = [_noise_photo(300, 400)]
    placed = []
    for seed in range(40):
        scene = sample_scene(np.random.default_rng(seed), photos, 4, 64, 64, still_fraction=1.0, max_layers=0)
        # The 64x64 view covers centre -+ 32 / magnification in the resized photo: where in the room left is it?
        size = np.array([400, 300]) * scene.photo_scale
        half = 32 / scene.magnification
        placed.append((np.array(scene.centre) - half) / (size - 2 * half))
    placed = np.array(placed)
    assert (placed >= -1e-9).all() and (placed <= 1 + 1e-9).all()  # inside the photo
    assert (placed.min(axis=0) < 0.2).all() and (placed.max(axis=0) > 0.8).all()  # x and y over the whole room


def test_cut_outs_of_photos_smaller_than_the_sprite_fit_in_them():
    # 13x11 photos: a layer of radius 0.1 to 0.3 of 96 px would want a sprite of 22 to 61 px.
    photos = [_noise_photo(300, 400)] + [_noise_photo(13, 11, seed) for seed in range(1, 4)]
    layers = 0
    for seed in range(30):
        scene = sample_scene(np.random.default_rng(seed), photos, 4, 96, 96, max_layers=3)
        for layer in scene.layers:
            if layer.photo == 0:
                continue
            layers += 1
            assert layer.photo_scale == 1.0 and layer.size == 11 and layer.corner[0] == 0 and 0 <= layer.corner[1] <= 2
            # the outline stays a pixel inside the sprite (radius <= (11 - 3) / 2 around the centre 5)
            distance = np.hypot(*(np.asarray(layer.outline) - 5.0).T)
            assert distance.max() <= 4.0 + 1e-9
        render_scene(scene, photos, 4, 96, 96)
    assert layers >= 10


def test_jpeg_keeps_the_colours():
    red = np.zeros((120, 160, 3), np.uint8)
    red[..., 0] = 220
    video = render_scene(_still_scene(jpeg_quality=90, shake=np.zeros((2, 2))), [red], 2, H, W)
    assert video[..., 0].min() > 200 and video[..., 2].max() < 20


def test_sampled_scenes_follow_their_arguments():
    photos = [_noise_photo(300, 400, seed) for seed in range(2)]
    n_layers, still_layers, moving_layers, accelerating, moving = [], 0, 0, 0, 0
    zooming = rotating = drifting = 0
    for seed in range(150):
        scene = sample_scene(np.random.default_rng(seed), photos, 12, 64, 64, max_rotation=1.0, max_layers=3,
                             still_fraction=0.2, max_zoom=0.01)
        # max_rotation is in degrees per frame, the motion's rates in radians
        assert np.abs(scene.camera.rotation).max() <= math.radians(1.0)
        assert np.abs(scene.camera.zoom).max() <= 0.01
        n_layers.append(len(scene.layers))
        if scene.camera != Motion():
            moving += 1
            accelerating += scene.camera.velocity[0] != scene.camera.velocity[1]
            zooming += scene.camera.zoom != (0.0, 0.0)
            rotating += scene.camera.rotation != (0.0, 0.0)
        for layer in scene.layers:
            assert layer.photo != scene.background  # cut from the other photo
            assert np.abs(layer.motion.rotation).max() <= math.radians(1.0)
            assert np.abs(layer.motion.zoom).max() <= 0.01
            still_layers += layer.motion == Motion()
            moving_layers += layer.motion != Motion()
        # gain: from 0.8..1.2, half the videos drifting by up to exp(+-0.15) over the clip
        g0, g1 = scene.gain
        assert 0.8 <= g0 <= 1.2 and math.exp(-0.15) <= g1 / g0 <= math.exp(0.15)
        drifting += g1 != g0
    assert set(n_layers) == {0, 1, 2, 3}  # uniform in 0..max_layers
    assert 0.1 < still_layers / (still_layers + moving_layers) < 0.3  # still_fraction of the layers
    assert 0.35 < accelerating / moving < 0.65  # half the moving cameras accelerate
    assert 0.35 < zooming / moving < 0.65 and 0.35 < rotating / moving < 0.65  # each half the time
    assert 0.35 < drifting / 150 < 0.65


def test_a_zooming_and_rolling_camera_stays_inside_the_photo():
    photo = _noise_photo(300, 400)
    n = 24
    for seed in range(60):
        # No pan: the zoom and roll alone decide how much of the photo the path needs.
        scene = sample_scene(np.random.default_rng(seed), [photo], n, 96, 128, max_speed=0.0, max_zoom=0.02,
                             max_rotation=2.0, max_shake=0.0)
        offset, log_scale, angle = scene.camera.path(n)
        offset = offset + scene.shake
        size = np.array([400, 300]) * scene.photo_scale
        # The narrowest view is never a minification of the resized photo (no aliasing).
        assert scene.magnification * math.exp(min(log_scale.min(), 0.0)) >= 1 - 1e-9 or scene.photo_scale == 1.0
        corners = np.array([[-0.5, -0.5], [127.5, -0.5], [-0.5, 95.5], [127.5, 95.5]]) - (63.5, 47.5)
        for t in range(n):
            c, s = math.cos(angle[t]), math.sin(angle[t])
            # frame point q shows photo point centre + R(-angle) (q - frame centre - offset) / scale
            moved = corners - offset[t]
            back = np.stack([c * moved[:, 0] + s * moved[:, 1], -s * moved[:, 0] + c * moved[:, 1]], axis=1)
            points = scene.centre + back / (scene.magnification * math.exp(log_scale[t]))
            assert (points >= -1e-6).all() and (points <= size + 1e-6).all(), (seed, t)


def test_a_camera_that_pans_zooms_rolls_and_shakes_at_once_stays_inside_the_photo():
    # A pan while zooming out reaches further into the photo than the pan alone: the whole path is placed
    from vidpred.data.synthetic import _similarity

    photo = _noise_photo(300, 400)
    n, height, width = 24, 96, 128
    corners = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [-0.5, height - 0.5], [width - 0.5, height - 0.5]])
    for seed in range(400):
        scene = sample_scene(np.random.default_rng(seed), [photo], n, height, width)  # every default motion
        photo_size = np.array([400, 300]) * scene.photo_scale
        offset, log_scale, angle = scene.camera.path(n)
        for t in range(n):  # the frame's corners mapped back by the warp that renders it
            warp = _similarity(scene.magnification * math.exp(log_scale[t]), angle[t], np.asarray(scene.centre),
                               np.array([(width - 1) / 2.0, (height - 1) / 2.0]) + offset[t] + scene.shake[t])
            back = cv2.invertAffineTransform(warp)
            points = corners @ back[:, :2].T + back[:, 2]  # as the placement measures the photo: 0 to its size
            assert (points >= -1e-6).all() and (points <= photo_size + 1e-6).all(), (seed, t)


def test_cameras_zoom_in_and_out_and_jpeg_qualities_span_30_to_95():
    photos = [_noise_photo(300, 400, seed) for seed in range(2)]
    zoom_rates, qualities = [], []
    for seed in range(120):
        scene = sample_scene(np.random.default_rng(seed), photos, 12, 64, 64, max_zoom=0.01)
        zoom_rates += [rate for rate in scene.camera.zoom if rate != 0.0]
        qualities += [scene.jpeg_quality] if scene.jpeg_quality is not None else []
    # The zoom rate is uniform in [-max_zoom, max_zoom]: about as many zoom-outs as zoom-ins.
    assert 0.3 < np.mean(np.array(zoom_rates) < 0) < 0.7
    # JPEG quality is uniform in 30..95, and both ends of the range are reached.
    assert min(qualities) >= 30 and max(qualities) <= 95 and min(qualities) < 35 and max(qualities) > 90


def test_a_wandering_velocity_keeps_at_most_0_9_of_its_last_step():
    from vidpred.data.synthetic import _wander

    class LargestDraws:
        """Every uniform draw at its upper end (sigma = max_wander, memory 0.9), every kick 1."""

        def uniform(self, low, high):
            return high

        def normal(self, loc, scale, size):
            return np.ones(size)

    # Steps 0, 1, 0.9 * 1 + 1 = 1.9, 0.9 * 1.9 + 1 = 2.71; offsets are their running sum.
    offsets = _wander(LargestDraws(), 4, 2.0)
    np.testing.assert_allclose(offsets[:, 0], [0.0, 1.0, 2.9, 5.61])
    np.testing.assert_allclose(offsets[:, 1], offsets[:, 0])
