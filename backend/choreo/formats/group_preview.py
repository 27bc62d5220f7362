"""The group `preview.mp4` of `choreo dance`: the whole routine seen from the audience, with the song.

One fixed perspective camera stands in the audience (+Z), slightly above the stage and looking down at
it, framed once so every member fits over the whole song: formations and travel show as positions on
the stage, not as a moving floor. The dancers face +Z, toward the camera, so a dancer's left (+X) is the
viewer's right. Each member is a thick stick figure in its own colour (the palette of the glTF writer)
with a head disc, a floor shadow and a name label; members are drawn far to near. Overlays: the title,
the current section's caption, a beat dot that flashes on every beat (bigger on downbeats), a time
counter and a timeline strip of the sections with a playhead.

Speed matters (a 3-minute song is 3600 frames at 20 fps): the floor, grid and timeline are drawn once,
all joints are projected for the whole song in one numpy step, and each frame is only a copy of the
background plus a few dozen Pillow `ImageDraw` calls, piped as raw RGB to the ffmpeg binary of
imageio-ffmpeg (H.264 yuv420p, the song muxed in as AAC and trimmed to the motion's length).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from choreo import fonts
from choreo.errors import ChoreoError
from choreo.formats.palette import MEMBER_COLORS_RGB8
from choreo.skeleton import JOINT_NAMES, KINEMATIC_CHAINS, NUM_JOINTS

PITCH_DEG = 14.0  # the camera looks down this much: rows behind stand higher on screen
FOV_DIST_FACTOR = 1.7  # camera distance / stage size: a mild perspective (back rows a little smaller)
STAGE_MARGIN_M = 0.8  # floor beyond the farthest pelvis positions
STAGE_MIN_HALF_SIZE = (2.5, 1.5)  # (x, z) metres: at least a 5 m x 3 m stage
GRID_STEP_M = 1.0
LIMB_RADIUS_M = 0.045  # half the drawn limb thickness
HEAD_RADIUS_M = 0.11
BEAT_FLASH_S = 0.15  # how long the beat dot stays lit after a beat (shortened for fast tempi)
HEAD = JOINT_NAMES.index("head")
PELVIS = JOINT_NAMES.index("pelvis")

BACKGROUND = (22, 22, 28)
FLOOR_FILL = (52, 52, 62)
GRID_COLOR = (72, 72, 86)
FRONT_EDGE = (190, 190, 205)
TEXT_COLOR = (235, 235, 240)
DIM_TEXT = (150, 150, 165)
OUTLINE = (10, 10, 14)
BEAT_COLOR = (255, 214, 64)
DOWNBEAT_COLOR = (255, 96, 64)
SECTION_SHADES = ((70, 90, 140), (120, 80, 130), (70, 120, 100), (140, 110, 60), (90, 90, 90))


@dataclass
class StageMarks:
    """What to overlay; all times in seconds on the song clock."""

    sections: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, caption)
    beats: np.ndarray = field(default_factory=lambda: np.zeros(0))
    downbeats: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _check_members(members: Sequence[np.ndarray]) -> np.ndarray:
    """All members as one float array [M,T,22,3]; one-line errors for anything else."""
    if len(members) == 0:
        raise ChoreoError("group preview: no members to draw")
    arrays = []
    for i, m in enumerate(members):
        a = np.asarray(m, dtype=np.float64)
        if a.ndim != 3 or a.shape[1:] != (NUM_JOINTS, 3) or a.shape[0] < 1:
            raise ChoreoError(f"group preview: member {i} has shape {a.shape}, expected [frames, {NUM_JOINTS}, 3]")
        if not np.isfinite(a).all():
            raise ChoreoError(f"group preview: member {i} has non-finite joint positions")
        arrays.append(a)
    lengths = sorted({a.shape[0] for a in arrays})
    if len(lengths) > 1:
        raise ChoreoError(f"group preview: members have different lengths ({', '.join(map(str, lengths))} frames)")
    return np.stack(arrays)


def _check_colors(colors: Sequence[tuple[int, int, int]] | None, count: int) -> list[tuple[int, int, int]]:
    if colors is None:
        return [MEMBER_COLORS_RGB8[i % len(MEMBER_COLORS_RGB8)] for i in range(count)]
    if len(colors) != count:
        raise ChoreoError(f"group preview: {count} members but {len(colors)} colours")
    out = []
    for c in colors:
        if len(c) < 3 or not all(0 <= int(v) <= 255 for v in c[:3]):
            raise ChoreoError(f"group preview: colour {tuple(c)} is not 8-bit RGB (0-255)")
        out.append((int(c[0]), int(c[1]), int(c[2])))
    return out


class _Camera:
    """Perspective camera in the audience at +Z looking toward -Z, tilted down by PITCH_DEG."""

    def __init__(self, target: np.ndarray, distance: float):
        pitch = np.deg2rad(PITCH_DEG)
        self.forward = np.array([0.0, -np.sin(pitch), -np.cos(pitch)])
        self.up = np.array([0.0, np.cos(pitch), -np.sin(pitch)])
        self.right = np.array([1.0, 0.0, 0.0])  # world +X (the dancers' left) is the viewer's right
        self.position = target - distance * self.forward
        self.basis = np.stack([self.right, self.up, self.forward], axis=1)  # world -> (x, y, depth)
        self.scale, self.offset = 1.0, np.zeros(2)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates [...,2] and depth [...] (metres along the view) of world points [...,3]."""
        cam = (points - self.position) @ self.basis
        depth = np.maximum(cam[..., 2], 1e-3)
        uv = cam[..., :2] / depth[..., None]
        px = np.stack([uv[..., 0] * self.scale + self.offset[0], -uv[..., 1] * self.scale + self.offset[1]], -1)
        return px, depth

    def fit(self, points: np.ndarray, box: tuple[float, float, float, float]) -> None:
        """Choose zoom and shift so the projections of `points` [N,3] fill the pixel box (x0, y0, x1, y1)."""
        self.scale, self.offset = 1.0, np.zeros(2)
        px, _ = self.project(points)
        lo, hi = px.min(0), px.max(0)
        span = np.maximum(hi - lo, 1e-6)
        self.scale = min((box[2] - box[0]) / span[0], (box[3] - box[1]) / span[1])
        centre_px = (lo + hi) / 2 * self.scale
        self.offset = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]) - centre_px


class GroupView:
    """Everything fixed over the song (camera, background, projections); `frame(t)` draws one image.

    Layout positions (`caption_xy`, `beat_centre`, `beat_radius`) are attributes so tests can look there."""

    def __init__(self, members: Sequence[np.ndarray], fps: float, marks: StageMarks | None = None,
                 names: Sequence[str] | None = None, colors: Sequence[tuple[int, int, int]] | None = None,
                 title: str = "", size: tuple[int, int] = (960, 540), start: float = 0.0):
        joints = _check_members(members)
        if not (np.isfinite(fps) and fps > 0):
            raise ChoreoError(f"group preview: fps must be positive, got {fps}")
        width, height = int(size[0]), int(size[1])
        if width < 160 or height < 90:
            raise ChoreoError(f"group preview: size {width}x{height} is too small (at least 160x90)")
        # H.264 with yuv420p needs even sides.
        self.width, self.height = width - width % 2, height - height % 2
        self.fps, self.start, self.marks = float(fps), float(start), marks or StageMarks()
        count, self.frames = joints.shape[0], joints.shape[1]
        self.names = [f"{i + 1}" for i in range(count)] if names is None else [str(n) for n in names]
        if len(self.names) != count:
            raise ChoreoError(f"group preview: {count} members but {len(self.names)} names")
        self.colors = _check_colors(colors, count)
        self.dark = [tuple(int(v * 0.45) for v in c) for c in self.colors]
        self.beats = np.sort(np.asarray(self.marks.beats, dtype=np.float64).ravel())
        self.downbeats = np.sort(np.asarray(self.marks.downbeats, dtype=np.float64).ravel())
        self.sections = sorted((float(a), float(b), str(c)) for a, b, c in self.marks.sections)

        w, h = self.width, self.height
        unit = h / 540  # sizes are designed at 540 lines and scale with the frame
        self.unit = unit
        self.size_big, self.size, self.size_small = round(22 * unit), round(16 * unit), max(8, round(12 * unit))
        self.font = fonts.pillow_font(fonts.dejavu(), self.size)  # the clock
        # Each member's label and each caption with a font that has its characters (resolved once).
        self.labels = []
        for i, name in enumerate(self.names):
            font, text = fonts.pillow_pick(name, self.size_small)  # a half-drawable name becomes the number
            self.labels.append((font, text) if text == name else fonts.pillow_pick(f"{i + 1}", self.size_small))
        self.captions = {c: fonts.pillow_pick(c, self.size) for _, _, c in self.sections}
        self.top_band, self.bottom_band = round(64 * unit), round(40 * unit)

        # Stage and camera from the whole song's extent.
        # The floor: the 1st percentile of each frame's lowest joint, so a stray dip does not sink the stage.
        floor_y = float(np.percentile(joints[..., 1].min(-1), 1))
        pelvis_xz = joints[:, :, PELVIS][..., [0, 2]].reshape(-1, 2)
        all_xz = joints[..., [0, 2]].reshape(-1, 2)
        lo = np.minimum(pelvis_xz.min(0) - STAGE_MARGIN_M, all_xz.min(0) - 0.2)
        hi = np.maximum(pelvis_xz.max(0) + STAGE_MARGIN_M, all_xz.max(0) + 0.2)
        centre = (lo + hi) / 2
        half = np.maximum((hi - lo) / 2, STAGE_MIN_HALF_SIZE)
        self.stage = (centre - half, centre + half)  # (x0, z0), (x1, z1)
        top_y = float(joints[..., 1].max()) + HEAD_RADIUS_M + 0.25  # room for the name labels
        target = np.array([centre[0], floor_y + 0.8, centre[1]])
        self.camera = _Camera(target, FOV_DIST_FACTOR * 2 * max(half[0], half[1]) + 3.0)
        (x0, z0), (x1, z1) = self.stage
        corners = np.array([[x, y, z] for x in (x0, x1) for y in (floor_y, top_y) for z in (z0, z1)])
        pad = 12 * unit
        self.camera.fit(corners, (pad, self.top_band + pad, w - pad, h - self.bottom_band - pad))
        self.floor_y = floor_y

        # Every joint of the song projected once: pixels [M,T,22,2], pelvis depth [M,T] for sorting and size.
        self.px, depth = self.camera.project(joints)
        self.depth = depth[:, :, PELVIS]
        shadow = joints[:, :, PELVIS].copy()
        shadow[..., 1] = floor_y
        self.shadow_px, _ = self.camera.project(shadow)
        self.pix_per_m = self.camera.scale / self.depth  # [M,T] pixels per metre at each member's depth
        self.head_px, _ = self.camera.project(joints[:, :, HEAD] + np.array([0.0, 0.06, 0.0]))
        self.background = self._draw_background(title)

    # ---- static parts ----
    def _draw_background(self, title: str) -> Image.Image:
        img = Image.new("RGB", (self.width, self.height), BACKGROUND)
        draw = ImageDraw.Draw(img)
        (x0, z0), (x1, z1) = self.stage
        y = self.floor_y

        def pt(x: float, z: float) -> tuple[float, float]:
            p, _ = self.camera.project(np.array([x, y, z]))
            return float(p[0]), float(p[1])

        draw.polygon([pt(x0, z0), pt(x1, z0), pt(x1, z1), pt(x0, z1)], fill=FLOOR_FILL)
        line_w = max(1, round(self.unit))
        for gx in np.arange(np.ceil(x0 / GRID_STEP_M), np.floor(x1 / GRID_STEP_M) + 1) * GRID_STEP_M:
            draw.line([pt(gx, z0), pt(gx, z1)], fill=GRID_COLOR, width=line_w)
        for gz in np.arange(np.ceil(z0 / GRID_STEP_M), np.floor(z1 / GRID_STEP_M) + 1) * GRID_STEP_M:
            draw.line([pt(x0, gz), pt(x1, gz)], fill=GRID_COLOR, width=line_w)
        draw.line([pt(x0, z1), pt(x1, z1)], fill=FRONT_EDGE, width=max(2, round(3 * self.unit)))  # audience side
        u = self.unit
        font, title = fonts.pillow_pick(title, self.size_big)
        if title:
            draw.text((12 * u, 8 * u), _shorten(draw, title, font, self.width * 0.62), font=font, fill=TEXT_COLOR)
        # Timeline strip: one block per section, the playhead is drawn per frame.
        self.strip = (12 * u, self.height - self.bottom_band + 14 * u, self.width - 12 * u,
                      self.height - 10 * u)
        sx0, sy0, sx1, sy1 = self.strip
        draw.rectangle(self.strip, fill=(40, 40, 48))
        total = self.frames / self.fps
        for k, (a, b, caption) in enumerate(self.sections):
            a, b = max(a - self.start, 0.0), min(b - self.start, total)
            if b <= a:
                continue
            xa, xb = sx0 + (sx1 - sx0) * a / total, sx0 + (sx1 - sx0) * b / total
            draw.rectangle((xa, sy0, max(xa, xb - 1), sy1), fill=SECTION_SHADES[k % len(SECTION_SHADES)])
            font, caption = fonts.pillow_pick(caption, self.size_small)
            label = _shorten(draw, caption, font, xb - xa - 4 * u)
            if label:
                draw.text((xa + 3 * u, (sy0 + sy1) / 2), label, font=font, fill=TEXT_COLOR, anchor="lm")
        self.caption_xy = (12 * u, 38 * u)
        self.beat_centre = (self.width - 28 * u, 30 * u)
        self.beat_radius = 9 * u
        bx, by = self.beat_centre
        r = self.beat_radius * 1.5
        draw.ellipse((bx - r, by - r, bx + r, by + r), outline=(70, 70, 80), width=max(1, round(u)))
        return img

    # ---- per frame ----
    def section_at(self, song_t: float) -> str:
        for a, b, caption in self.sections:
            if a <= song_t < b:
                return caption
        return ""

    def beat_at(self, song_t: float) -> tuple[float, bool]:
        """(intensity 0-1 of the beat dot, on a downbeat) at song time `song_t`.

        A beat lights the frame whose time is within half a frame before it, so no beat is missed between
        frames; the light fades over BEAT_FLASH_S (at most 40 % of the local beat period)."""
        if self.beats.size == 0:
            return 0.0, False
        half_frame = 0.5 / self.fps
        k = int(np.searchsorted(self.beats, song_t + half_frame, side="right")) - 1
        if k < 0:
            return 0.0, False
        beat = self.beats[k]
        period = np.diff(self.beats[max(k - 1, 0):k + 2]).min() if self.beats.size > 1 else 1.0
        flash = max(min(BEAT_FLASH_S, 0.4 * period), half_frame * 2)
        dt = max(song_t - beat, 0.0)
        if dt >= flash:
            return 0.0, False
        down = self.downbeats.size > 0 and np.abs(self.downbeats - beat).min() < 0.25 * period
        return 1.0 - dt / flash, bool(down)

    def frame(self, t: int) -> Image.Image:
        img = self.background.copy()
        draw = ImageDraw.Draw(img)
        u = self.unit
        order = np.argsort(-self.depth[:, t])  # far members first, near ones on top
        for m in order:
            scale = float(self.pix_per_m[m, t])
            sx, sy = self.shadow_px[m, t]
            rx, ry = 0.28 * scale, 0.28 * scale * np.sin(np.deg2rad(PITCH_DEG)) * 1.6
            draw.ellipse((sx - rx, sy - ry, sx + rx, sy + ry), fill=(36, 36, 44))
        for m in order:
            pts = self.px[m, t]
            scale = float(self.pix_per_m[m, t])
            limb = max(2, round(2 * LIMB_RADIUS_M * scale))
            color, dark = self.colors[m], self.dark[m]
            chains = [[tuple(p) for p in pts[list(chain)].tolist()] for chain in KINEMATIC_CHAINS]
            # A dark outline under each limb keeps crossing limbs and overlapping members readable.
            for line in chains:
                draw.line(line, fill=OUTLINE, width=limb + 2 * max(1, round(u)), joint="curve")
            for k, line in enumerate(chains):
                draw.line(line, fill=dark if k in (1, 4) else color, width=limb, joint="curve")
            hx, hy = self.head_px[m, t]
            r = HEAD_RADIUS_M * scale
            draw.ellipse((hx - r, hy - r, hx + r, hy + r), fill=color, outline=OUTLINE, width=max(1, round(u)))
            font, label = self.labels[m]
            draw.text((hx, hy - r - 3 * u), label, font=font, fill=color, anchor="md")
        song_t = self.start + t / self.fps
        caption = self.section_at(song_t)
        if caption:
            font, text = self.captions[caption]
            draw.text(self.caption_xy, text, font=font, fill=TEXT_COLOR)
        level, down = self.beat_at(song_t)
        if level > 0:
            bx, by = self.beat_centre
            r = self.beat_radius * (1.5 if down else 1.0)
            base = DOWNBEAT_COLOR if down else BEAT_COLOR
            fill = tuple(int(b + (c - b) * level) for c, b in zip(base, BACKGROUND, strict=True))
            draw.ellipse((bx - r, by - r, bx + r, by + r), fill=fill)
        total = self.frames / self.fps
        clock = f"{_clock(t / self.fps)} / {_clock(total)}"
        draw.text((self.width - 52 * u, 30 * u), clock, font=self.font, fill=DIM_TEXT, anchor="rm")
        sx0, sy0, sx1, sy1 = self.strip
        x = sx0 + (sx1 - sx0) * min(t / max(self.frames - 1, 1), 1.0)
        draw.line([(x, sy0 - 4 * u), (x, sy1 + 2 * u)], fill=TEXT_COLOR, width=max(2, round(2 * u)))
        return img


def _clock(seconds: float) -> str:
    minutes, sec = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes)}:{sec:04.1f}"


def _shorten(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """`text`, cut with an ellipsis to fit `width` pixels ('' if not even one letter fits)."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…" if text else ""


def _ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise ChoreoError(f"group preview: no ffmpeg found (install imageio-ffmpeg): {exc}") from None


def _ffmpeg_command(path: Path, width: int, height: int, fps: float, audio: Path | None, start: float,
                    duration: float) -> list[str]:
    """Raw RGB frames on stdin (+ the song) -> H.264 yuv420p (+ AAC), cut to the motion's duration."""
    cmd = [_ffmpeg_exe(), "-y", "-loglevel", "error",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "-"]
    if audio is not None:
        # Frame 0 is song time `start`: skip into the song, or (start < 0) begin with real silence (a
        # timestamp offset alone is dropped by some players and decoders).
        skip = ["-ss", f"{start:.3f}"] if start > 0 else []
        delay = ["-af", f"adelay={round(-start * 1000)}:all=1"] if start < 0 else []
        cmd += [*skip, "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", *delay, "-c:a", "aac", "-b:a", "160k"]
    else:
        cmd += ["-an"]
    return cmd + ["-t", f"{duration:.3f}", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                  "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)]


def _check_output(path: Path) -> None:
    if not path.parent.is_dir():
        raise ChoreoError(f"group preview: the folder {path.parent} does not exist")
    if path.is_dir():
        raise ChoreoError(f"group preview: {path} is a folder, not a video file name")
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise ChoreoError(f"group preview: cannot write {path}: {exc.strerror or exc}") from None


def write_group_preview(path: str | Path, members: Sequence[np.ndarray], fps: float, *,
                        audio: str | Path | None, marks: StageMarks | None = None,
                        names: Sequence[str] | None = None, colors: Sequence[tuple[int, int, int]] | None = None,
                        title: str = "", size: tuple[int, int] = (960, 540),
                        progress: Callable[[int, int], None] | None = None, start: float = 0.0) -> Path:
    """Render the group from the audience into an H.264 MP4 with the song; returns the path.

    `members`: each [T,22,3] joints in metres (Y up, audience at +Z), all the same length. `audio`: the
    song (any format ffmpeg reads), muxed in and cut to the motion's length; None writes a silent video.
    `start`: the song time (s) of frame 0, for the audio and the marks. `colors`: 8-bit RGB per member
    (the shared palette when None). `progress(done, total)` is called about once per video second."""
    path = Path(path)
    _check_members(members)  # shape errors before file errors
    audio_path = None
    if audio is not None:
        audio_path = Path(audio)
        if not audio_path.is_file():
            raise ChoreoError(f"group preview: the song file {audio_path} does not exist")
    renderer = GroupView(members, fps, marks, names, colors, title, size, start)
    _check_output(path)
    total = renderer.frames
    cmd = _ffmpeg_command(path, renderer.width, renderer.height, renderer.fps, audio_path, float(start),
                          total / renderer.fps)
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise ChoreoError(f"group preview: cannot run ffmpeg: {exc}") from None
    step = max(1, round(renderer.fps))
    try:
        for t in range(total):
            proc.stdin.write(renderer.frame(t).tobytes())
            if progress is not None and ((t + 1) % step == 0 or t + 1 == total):
                progress(t + 1, total)
    except BrokenPipeError:
        pass  # ffmpeg stopped early; its own message is reported below
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read().decode(errors="replace")
        proc.wait()
    if proc.returncode != 0:
        path.unlink(missing_ok=True)  # no half-written video left behind
        last = err.strip().splitlines()[-1] if err.strip() else "no message"
        raise ChoreoError(f"group preview: ffmpeg failed: {last}")
    return path


def group_frame_png(path: str | Path, members: Sequence[np.ndarray], frame: int, *, fps: float = 20.0,
                    marks: StageMarks | None = None, names: Sequence[str] | None = None,
                    colors: Sequence[tuple[int, int, int]] | None = None, title: str = "",
                    size: tuple[int, int] = (960, 540), start: float = 0.0) -> Path:
    """One frame of the same view as a PNG (for a README picture); returns the path."""
    path = Path(path)
    renderer = GroupView(members, fps, marks, names, colors, title, size, start)
    if not 0 <= frame < renderer.frames:
        raise ChoreoError(f"group preview: frame {frame} is outside 0..{renderer.frames - 1}")
    _check_output(path)
    try:
        renderer.frame(frame).save(path, format="PNG")
    except OSError as exc:
        raise ChoreoError(f"group preview: cannot write {path}: {exc}") from None
    return path
