"""The studio (frontend/, served at / by the service) in a real browser against the real service.

Debian's chromium (no browser download) is driven by Playwright for Python. One short synthesized song is
uploaded through the page and danced by 2 members; the page must then play it with the animation's time
taken from the one <audio> element, draw the group on a WebGL canvas, show the song's sections on the
timeline, regenerate one section only (undo goes back), refuse a non-audio file with the server's message,
open a job from its own address, mark a span of the dance as a library move, and place a move on a chorus beat
(click, keyboard, drop; remove one), regenerate, and dance the move exactly there.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest

from choreo.choreography.moves import Move
from choreo.choreography.plan import Plan, make_plan
from choreo.choreography.points import regenerate_edges
from choreo.config import DEFAULT_MODEL
from choreo.music.analyze import analyze
from choreo.music.demo_song import synthesize, write_demo_song
from choreo.music.song import Song

from service import assert_move_danced, body_error

CHROMIUM = Path("/usr/bin/chromium")
DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
# Short, with repeats: ~31 s at 132 BPM, so a 2-member dance is quick.
STRUCTURE = (("intro", 2), ("verse", 2), ("chorus", 4), ("verse", 2), ("chorus", 4), ("outro", 2))
MEMBERS = 2
FPS = 20.0
NEW_PROMPT = "a person dances charleston, slow and small"
STAGE_BACKGROUND = (0x20, 0x23, 0x2A)  # the stage's clear colour (frontend/src/js/stage.js)

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt install chromium)"),
    pytest.mark.skipif(not (DIST / "index.html").exists(),
                       reason="the studio is not built: npm ci --prefix frontend && npm run build --prefix frontend"),
    pytest.mark.skipif(not Path(DEFAULT_MODEL).exists(), reason="the shipped default model is missing"),
]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def _post_file(url: str, field: str, name: str, data: bytes, content_type: str) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from service import running_service

    # No preview.mp4 (the slowest output) and 2 candidates per section: the page needs neither.
    with running_service(tmp_path_factory.mktemp("studio_service"), CHOREO_VIDEO="0", CHOREO_CANDIDATES="2") as svc:
        yield svc.url


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("studio_song")
    path, _ = write_demo_song(folder / "demo.wav", synthesize(structure=STRUCTURE, seed=3))
    return Path(path)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-background-networking", "--use-angle=swiftshader",
            "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


def _page(browser, errors: list[str]):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(30_000)
    return page


@pytest.fixture(scope="module")
def studio(browser, service, song):
    """The page after a song was uploaded through it and danced: (page, base url, job id, page errors)."""
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(service + "/")
    page.set_input_files("#song-input", str(song))
    page.wait_for_selector("#make-form:not([hidden])")
    page.fill("#make-members", str(MEMBERS))
    page.click("#make-submit")
    page.wait_for_function("window.studio.ready && window.studio.jobId", timeout=300_000)
    job = page.evaluate("window.studio.jobId")
    yield page, service, job, errors
    page.close()


def _choreography(base: str, job: str) -> dict:
    return _get_json(f"{base}/api/v1/choreographies/{job}/files/choreography.json")


def _seeked(page, t: float) -> tuple[float, float]:
    """Seek the page's audio to t, wait for the seek and two frames, then read both clocks."""
    return tuple(page.evaluate("""async (t) => {
        const a = document.getElementById('song');
        const done = new Promise((r) => a.addEventListener('seeked', r, { once: true }));
        window.studio.seek(t);
        await done;
        for (let i = 0; i < 2; i++) await new Promise((r) => requestAnimationFrame(r));
        return [window.studio.audioTime(), window.studio.animationTime()];
    }""", t))


def test_uploaded_song_is_danced_and_opened(studio):
    page, base, job, errors = studio
    record = _get_json(f"{base}/api/v1/choreographies/{job}")
    assert record["status"] == "done" and record["kind"] == "dance"
    assert f"job={job}" in page.url  # the dance has its own address
    ch = _choreography(base, job)
    assert [m["name"] for m in page.evaluate("studio.members()")] == [m["name"] for m in ch["members"]]
    assert len(ch["members"]) == MEMBERS
    assert errors == []


def test_animation_time_follows_the_audio(studio):
    page, _, _, _ = studio
    page.evaluate("studio.pause()")
    duration = page.evaluate("document.getElementById('song').duration")
    for t in (3.3, 0.5, 0.37 * duration, 0.81 * duration):
        audio, anim = _seeked(page, t)
        assert audio == pytest.approx(t, abs=1e-3)
        assert abs(anim - audio) <= 1.0 / FPS, (t, audio, anim)
    # Playing (press play like a user): every frame poses the bodies at the audio's time, also at 0.5x and
    # after a seek while playing.
    page.select_option("#speed", "0.5")
    _seeked(page, 2.0)
    page.click("#play")
    page.wait_for_function("window.studio.audioTime() > 2.4")
    samples = page.evaluate("""async () => {
        const out = [];
        for (let i = 0; i < 20; i++) {
            await new Promise((r) => requestAnimationFrame(r));
            out.push([window.studio.audioTime(), window.studio.animationTime()]);
            if (i === 10) window.studio.seek(12.0);
        }
        return out;
    }""")
    assert page.evaluate("document.getElementById('song').playbackRate") == 0.5
    assert page.evaluate("studio.playing()")
    times = np.array(samples)
    assert times[-1, 0] > 12.0  # the seek while playing took effect and it kept playing
    settled = [(a, b) for i, (a, b) in enumerate(samples) if i < 10 or i > 13]
    assert max(abs(a - b) for a, b in settled) <= 1.0 / FPS, samples
    page.evaluate("studio.pause()")
    page.select_option("#speed", "1")


def test_keyboard_plays_steps_by_beat_and_loops_a_section(studio):
    page, base, job, _ = studio
    beats = np.array(_choreography(base, job)["song"]["beats"])
    page.evaluate("studio.pause()")
    _seeked(page, beats[5] + 0.1)
    page.focus("#timeline")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"Math.abs(window.studio.audioTime() - {beats[6]}) < 1e-3")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"Math.abs(window.studio.audioTime() - {beats[5]}) < 1e-3")
    page.keyboard.press("Space")
    page.wait_for_function("window.studio.playing()")
    page.keyboard.press("Space")
    page.wait_for_function("!window.studio.playing()")
    # L loops the section under the playhead: playing over its end comes back to its start.
    first = page.evaluate("studio.sections()")[1]
    _seeked(page, first["end"] - 0.3)
    page.keyboard.press("l")
    assert page.is_checked("#loop")
    page.keyboard.press("Space")
    page.wait_for_function(f"window.studio.audioTime() < {first['end'] - 0.5}")
    assert first["start"] <= page.evaluate("studio.audioTime()") < first["end"]
    page.keyboard.press("Space")
    page.keyboard.press("l")
    assert not page.is_checked("#loop")


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_stage_canvas_shows_the_members_mirrored_and_solo(studio):
    page, _, _, _ = studio
    page.evaluate("studio.pause()")
    _seeked(page, 6.0)
    img = _canvas(page)
    off_background = np.abs(img - np.array(STAGE_BACKGROUND)).sum(axis=-1) > 30
    assert off_background.mean() > 0.2  # the floor and the bodies, not a blank canvas
    # Every member's colour is on the canvas: saturated pixels near each body's hue.
    members = page.evaluate("studio.members()")
    colours = [np.array([int(m["color"][i:i + 2], 16) for i in (1, 3, 5)]) for m in members]
    centres = []
    for m, rgb in zip(members, colours, strict=True):
        hue_match = _same_hue(img, rgb)
        assert hue_match.sum() > 150, (m, int(hue_match.sum()))
        centres.append(np.nonzero(hue_match)[1].mean() / img.shape[1])
    # Mirror: each member appears on the other side of the picture.
    page.check("#mirror")
    mirrored = _canvas(page)
    for rgb, x in zip(colours, centres, strict=True):
        assert np.nonzero(_same_hue(mirrored, rgb))[1].mean() / img.shape[1] == pytest.approx(1 - x, abs=0.05)
    page.uncheck("#mirror")
    # Solo: clicking a member twice (highlight, then solo) leaves only them on the stage.
    page.locator("#member-list button").nth(0).click()
    page.locator("#member-list button").nth(0).click()
    solo = _canvas(page)
    assert _same_hue(solo, colours[0]).sum() > 150
    assert all(_same_hue(solo, rgb).sum() < 20 for rgb in colours[1:])
    page.locator("#member-list button").nth(0).click()  # everyone again
    everyone = _canvas(page)
    assert all(_same_hue(everyone, rgb).sum() > 150 for rgb in colours)


def _canvas(page) -> np.ndarray:
    """The stage canvas as shown (mirroring included), without the HTML drawn over it (names, buttons)."""
    style = page.add_style_tag(content="#labels, #stage .overlay { visibility: hidden !important; }")
    try:
        return _pixels(page.locator("#stage-canvas").screenshot())
    finally:
        style.evaluate("(s) => s.remove()")


def _same_hue(img: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Pixels whose hue is within 12 degrees of rgb's and that are clearly coloured (lit or shaded)."""
    def hue_sat(a):
        a = a / 255.0
        mx, mn = a.max(axis=-1), a.min(axis=-1)
        d = np.maximum(mx - mn, 1e-9)
        r, g, b = a[..., 0], a[..., 1], a[..., 2]
        h = np.where(mx == r, ((g - b) / d) % 6, np.where(mx == g, (b - r) / d + 2, (r - g) / d + 4)) * 60
        return h, (mx - mn) / np.maximum(mx, 1e-9)
    h, s = hue_sat(img)
    h0, _ = hue_sat(rgb[None, None].astype(float))
    dh = np.abs((h - h0[0, 0] + 180) % 360 - 180)
    return (dh < 12) & (s > 0.35)


def test_timeline_shows_the_sections(studio):
    page, base, job, _ = studio
    ch = _choreography(base, job)
    shown = page.evaluate("studio.sections()")
    assert [(s["label"], s["kind"]) for s in shown] == [(s["label"], s["kind"]) for s in ch["sections"]]
    plan = ch["plan"]["sections"]
    assert [round(s["start"], 3) for s in shown] == [round(s["start"], 3) for s in plan]
    assert len({s["label"] for s in shown}) < len(shown)  # the repeated chorus shares its label
    # Each section's coloured band is drawn where the section is (the whole song spans the timeline).
    canvas = page.locator("#timeline")
    img = _pixels(canvas.screenshot())
    width = img.shape[1]
    duration = ch["song"]["duration"]
    for s in shown:
        x = int(((s["start"] + s["end"]) / 2) / duration * width)
        color = page.evaluate("(l) => studio.sectionColor(l)", s["label"])
        rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
        band = img[3, max(0, x - 3): x + 4]
        assert (np.abs(band - rgb).sum(axis=-1) < 40).any(), (s, band.tolist(), color)


def test_regenerating_one_section_changes_only_it_and_undo_goes_back(studio):
    page, base, job, _ = studio
    old = _choreography(base, job)
    # A section nothing repeats and that repeats nothing (its label occurs once).
    labels = [s["label"] for s in old["sections"]]
    k = max(i for i, label in enumerate(labels) if labels.count(label) == 1)
    assert old["plan"]["sections"][k]["repeat_of"] is None
    page.click("#tabs [data-tab=sections]")
    row = page.locator(f"#edit-sections li[data-index='{k}']")
    row.locator(".prompt").fill(NEW_PROMPT)
    row.locator(".regen").click()
    page.wait_for_function(f"window.studio.jobId !== '{job}' && window.studio.ready", timeout=300_000)
    new_id = page.evaluate("window.studio.jobId")
    record = _get_json(f"{base}/api/v1/choreographies/{new_id}")
    assert record["parent"] == job and record["status"] == "done"
    new = _choreography(base, new_id)
    assert new["plan"]["sections"][k]["prompt"] == NEW_PROMPT
    sec = old["sections"][k]
    a0, a1 = sec["start_frame"], sec["end_frame"]
    for before, after in zip(old["members"], new["members"], strict=True):
        b, a = np.array(before["joints"]), np.array(after["joints"])
        assert np.array_equal(b[:a0], a[:a0])  # every other section: the same frames exactly
        assert np.array_equal(b[a1:], a[a1:])
        assert np.abs(b[a0:a1] - a[a0:a1]).max() > 0.05  # the regenerated section moves differently
    assert f"job={new_id}" in page.url
    page.click("#undo")
    page.wait_for_function(f"window.studio.jobId === '{job}' && window.studio.ready")
    assert page.locator("#redo").is_visible()


def test_a_non_audio_file_shows_the_servers_message(browser, service):
    text = b"not a song at all\n" * 50
    status, body = _post_file(f"{service}/api/v1/analyze", "song", "notes.txt", text, "text/plain")
    assert status == 422 and body["detail"]
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(service + "/")
    # Dropped on the page like a user would (a real DataTransfer with a text file in it).
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['not a song at all\\n'.repeat(50)], 'notes.txt', { type: 'text/plain' }));
        const stage = document.getElementById('stage');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            stage.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
    }""")
    message = page.locator("#message.error")
    message.wait_for()
    assert "notes.txt" in message.inner_text() and body["detail"] in message.inner_text()
    assert page.locator("#make-form").is_hidden()  # nothing to dance
    assert errors == []
    page.close()


def test_a_job_address_opens_it_ready_to_play(browser, studio):
    _, base, job, _ = studio
    errors: list[str] = []
    page = _page(browser, errors)
    page.goto(f"{base}/?job={job}")
    page.wait_for_function("window.studio.ready")
    assert page.evaluate("window.studio.jobId") == job
    assert len(page.evaluate("studio.sections()")) == len(_choreography(base, job)["sections"])
    page.click("#play")
    page.wait_for_function("window.studio.audioTime() > 0.3")
    page.evaluate("studio.pause()")
    page.click("#tabs [data-tab=files]")
    links = page.locator("#file-list a")
    names = [links.nth(i).inner_text() for i in range(links.count())]
    assert {"choreography.json", "choreography.glb", "member_01.bvh", "plan.json"} <= set(names)
    href = page.locator("#file-list a", has_text="member_02.bvh").get_attribute("href")
    with urllib.request.urlopen(base + href, timeout=30) as r:
        assert r.read(9) == b"HIERARCHY"
    assert errors == []
    page.close()


def test_text_to_dance_panel_shows_the_motion(studio):
    page, _, _, _ = studio
    page.click("#tabs [data-tab=text]")
    page.fill("#motion-text", "a person dances salsa")
    page.fill("#motion-seconds", "2")
    page.click("#motion-submit")
    page.wait_for_selector("#motion-result:not([hidden])", timeout=120_000)
    assert page.inner_text("#motion-info").startswith("1 sample, 2.0 s")
    assert "motion.bvh" in page.inner_text("#motion-files")
    assert page.evaluate("window.studio.job.kind") == "motion"
    img = _canvas(page)
    red = _same_hue(img, np.array([0xE6, 0x33, 0x46]))  # the first figure's colour
    assert red.sum() > 100
    page.click("#motion-close")  # back to the dance, which is still open
    assert page.evaluate("window.studio.job.kind") in ("dance", "regenerate")


def _formations_field(analysis: dict, prompts: dict[int, str], chosen: dict[int, str]) -> str:
    """The page's own `formations` request field (frontend make.js, run by node) for these choices."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    args = ", ".join(json.dumps(a) for a in (analysis, prompts, chosen))
    script = ("import { formationsField, planSections } from './make.js';"
              f"const [a, p, c] = [{args}]; process.stdout.write(formationsField(planSections(a), p, c));")
    done = subprocess.run([node, "--input-type=module", "-e", script], cwd=DIST / "js", capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_formations_chosen_in_the_make_form_land_on_their_sections(song):
    """The service takes one formation per distinct section in order; the page must count distinct sections
    as choreo's make_plan does (repeats, own prompts, bars), or a chosen formation lands on another section."""
    analysis = analyze(song)
    labels = [s.label for s in analysis.sections]
    first = next(i for i, label in enumerate(labels) if labels.count(label) > 1)
    repeat = labels.index(labels[first], first + 1)
    assert make_plan(analysis, members=3).sections[repeat].repeat_of == first
    cases = [
        ({}, {first: "circle"}),  # the repeat stands where its first stands
        ({repeat: "a person dances charleston"}, {first: "circle", repeat: "arc"}),  # its own prompt: its own place
        ({first: "a person dances salsa", repeat: "a person dances salsa"}, {first: "pyramid"}),  # the same: a repeat
    ]
    for prompts, chosen in cases:
        field = _formations_field(analysis.to_dict(), prompts, chosen)
        plan = make_plan(analysis, members=3, formations=field.split(","),
                         section_prompts={str(k): v for k, v in prompts.items()})
        assert len(field.split(",")) == len({s.index for s in plan.sections if s.repeat_of is None}), field
        for index, name in chosen.items():
            assert plan.sections[index].formation == name, (prompts, chosen, field)
        own = repeat in chosen
        assert (plan.sections[repeat].repeat_of is None) == own
        if not own:
            assert plan.sections[repeat].formation == chosen[first]


# ---------------------------------------------------------------- point moves


def _post_json(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _beats_of(ch: dict, k: int) -> list[int]:
    sec = ch["plan"]["sections"][k]
    return [i for i, b in enumerate(ch["song"]["beats"]) if sec["start"] - 1e-3 <= b < sec["end"] - 1e-3]


def _moves_page(browser, base: str, job: str, errors: list[str]):
    page = _page(browser, errors)
    page.goto(f"{base}/?job={job}")
    page.wait_for_function("window.studio.ready")
    page.click("#tabs [data-tab=moves]")
    return page


def _timeline_point(page, t: float, dx: float = 0.0, y: float = 0.6) -> tuple[float, float]:
    box = page.locator("#timeline").bounding_box()
    return box["x"] + page.evaluate("(t) => studio.timeX(t)", t) + dx, box["y"] + box["height"] * y


def _shift_drag(page, t0: float, t1: float) -> None:
    x0, y = _timeline_point(page, t0, 2.0)
    x1, _ = _timeline_point(page, t1, -2.0)
    page.keyboard.down("Shift")
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x1, y, steps=6)
    page.mouse.up()
    page.keyboard.up("Shift")


def test_marking_a_span_of_the_dance_creates_a_library_move(browser, studio):
    _, base, job, _ = studio
    ch = _choreography(base, job)
    beats, fps = ch["song"]["beats"], ch["fps"]
    k = max(range(len(ch["sections"])), key=lambda i: len(_beats_of(ch, i)))
    idx = _beats_of(ch, k)
    t0, t1 = beats[idx[2]], beats[idx[6]]
    errors: list[str] = []
    page = _moves_page(browser, base, job, errors)
    _shift_drag(page, t0, t1)  # a few pixels inside the span: the ends snap to the beats
    assert page.evaluate("studio.selection()") == pytest.approx([t0, t1], abs=1e-6)
    assert "4 beats selected" in page.inner_text("#selection-info")
    page.fill("#mark-name", "hook")
    page.select_option("#mark-member", "2")
    page.click("#mark-move")
    page.wait_for_selector("#move-list li[data-move=hook]")
    listed = {m["name"]: m for m in _get_json(f"{base}/api/v1/moves")["moves"]}
    assert listed["hook"]["beats"] == pytest.approx(4.0, abs=0.15)
    assert listed["hook"]["bpm"] == pytest.approx(ch["song"]["tempo"])
    assert "4.0 beats" in page.inner_text("#move-list li[data-move=hook]")
    joints = np.asarray(_get_json(f"{base}/api/v1/moves/hook")["joints"])
    a = int(round(t0 * fps))
    assert body_error(joints, np.asarray(ch["members"][1]["joints"])[a : a + len(joints)]) < 0.01  # member 2's
    # The same span under a name that is no name: the server's sentence is on the page, nothing is added.
    page.keyboard.press("Escape")
    _shift_drag(page, t0, t1)
    page.fill("#mark-name", "../hook")
    page.click("#mark-move")
    page.wait_for_selector("#moves-error:not([hidden])")
    assert "is not allowed" in page.inner_text("#moves-error")
    assert sorted(m["name"] for m in _get_json(f"{base}/api/v1/moves")["moves"]) == sorted(listed)
    assert errors == []
    page.close()


def _free_beat(ch: dict, k: int, frames: int, after: int = 1) -> int:
    """The first beat (from `after`, counted from 1 in section k) where a move of `frames` frames can be danced
    by regenerating section k alone (clear of the frames that join it to its neighbours)."""
    song, plan, fps = Song.from_dict(ch["song"]), Plan.from_dict(ch["plan"]), ch["fps"]
    edges = regenerate_edges(song, plan, k, fps)
    lo = edges["start"][1] if "start" in edges else 0
    hi = edges["end"][0] if "end" in edges else ch["frames"]
    end = ch["sections"][k]["end_frame"]
    for n, i in enumerate(_beats_of(ch, k), start=1):
        f = int(round(song.beats[i] * fps))
        if n >= after and f >= lo + 1 and f + frames < min(hi, end) - 1:
            return n
    raise AssertionError(f"no beat of section {k} fits a {frames}-frame move")


def test_a_move_placed_on_a_chorus_beat_is_danced_there(browser, studio):
    _, base, job, _ = studio
    ch = _choreography(base, job)
    beats, fps, tempo = ch["song"]["beats"], ch["fps"], ch["song"]["tempo"]
    plan = ch["plan"]["sections"]
    # The move: 4 beats of member 1 (made through the service here; the page's own marking is tested above).
    src = _beats_of(ch, max(range(len(plan)), key=lambda i: len(_beats_of(ch, i))))[1]
    status, made = _post_json(f"{base}/api/v1/choreographies/{job}/moves",
                              {"name": "wave", "member": 1, "start": beats[src], "end": beats[src + 4]})
    assert status == 201, made
    move = Move.from_dict(_get_json(f"{base}/api/v1/moves/wave"))
    frames = int(round(move.beats * 60.0 / tempo * fps))
    chorus = next(i for i, s in enumerate(plan) if s["kind"] == "chorus" and s["repeat_of"] is None)
    repeat = next(i for i, s in enumerate(plan) if s["repeat_of"] == chorus)
    idx = _beats_of(ch, chorus)
    beat = _free_beat(ch, chorus, frames, after=2)
    t = beats[idx[beat - 1]]
    errors: list[str] = []
    page = _moves_page(browser, base, job, errors)
    page.wait_for_selector("#move-list li[data-move=wave]")
    assert "wave" in [m["name"] for m in page.evaluate("studio.moves()")]
    page.click("#move-list li[data-move=wave] .pick")
    assert page.get_attribute("#move-list li[data-move=wave] .pick", "aria-pressed") == "true"
    page.mouse.click(*_timeline_point(page, t, 3.0))  # a little after the beat: it snaps to it
    page.wait_for_function("studio.placements().length === 1")
    (p,) = page.evaluate("studio.placements()")
    assert (p["section"], p["beat"], p["move"], p["pending"]) == (chorus, beat, "wave", True)
    assert p["start"] == pytest.approx(t)
    # Drawn on the timeline: the move's box in the lane under the sections, nowhere else in the lane.
    img = _pixels(page.locator("#timeline").screenshot())
    rgb = np.array([int(p["color"][i:i + 2], 16) for i in (1, 3, 5)])
    x_in = int(page.evaluate("(t) => studio.timeX(t)", (p["start"] + p["end"]) / 2))
    x_out = int(page.evaluate("(t) => studio.timeX(t)", (plan[0]["start"] + plan[0]["end"]) / 2))
    lane = slice(38, 50)
    assert _same_hue(img[lane, x_in - 3 : x_in + 4], rgb).sum() > 10
    assert _same_hue(img[lane, x_out - 3 : x_out + 4], rgb).sum() == 0
    # The keyboard: P at the playhead places it on the repeat; its ✕ removes it again.
    r_beat = _free_beat(ch, repeat, frames, after=2)
    page.evaluate("(t) => studio.seek(t)", beats[_beats_of(ch, repeat)[r_beat - 1]])
    page.focus("#timeline")
    page.keyboard.press("p")
    page.wait_for_function("studio.placements().length === 2")
    page.locator(f"#placement-list li[data-section='{repeat}'] .rm").click()
    page.wait_for_function("studio.placements().length === 1")
    # Dropped on the timeline (a real DataTransfer, as a drag from the library makes): placed, then removed.
    x, y = _timeline_point(page, beats[_beats_of(ch, repeat)[r_beat - 1]])
    page.evaluate("""([x, y]) => {
        const dt = new DataTransfer();
        dt.setData('application/x-choreo-move', 'wave');
        const c = document.getElementById('timeline');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            const init = { dataTransfer: dt, bubbles: true, cancelable: true, clientX: x, clientY: y };
            c.dispatchEvent(new DragEvent(type, init));
        }
    }""", [x, y])
    page.wait_for_function("studio.placements().length === 2")
    assert {q["section"] for q in page.evaluate("studio.placements()")} == {chorus, repeat}
    page.locator(f"#placement-list li[data-section='{repeat}'] .rm").click()
    page.wait_for_function("studio.placements().length === 1")
    # A beat the move cannot start on (it would run past the chorus's end): the server's sentence, no placement.
    page.mouse.click(*_timeline_point(page, beats[idx[-1]]))
    page.wait_for_selector("#moves-error:not([hidden])")
    assert "past the section's end" in page.inner_text("#moves-error")
    assert len(page.evaluate("studio.placements()")) == 1
    # Regenerate: a new job whose parent is the open dance; it opens when done.
    page.keyboard.press("Escape")
    page.click("#moves-regenerate")
    page.wait_for_function(f"window.studio.jobId !== '{job}' && window.studio.ready", timeout=300_000)
    new_id = page.evaluate("window.studio.jobId")
    record = _get_json(f"{base}/api/v1/choreographies/{new_id}")
    assert record["parent"] == job and record["status"] == "done" and record["kind"] == "regenerate"
    new = _choreography(base, new_id)
    assert new["plan"]["sections"][chorus]["points"] == [{"move": "wave", "bars": [], "beats": [beat],
                                                          "members": None}]
    rows = [q for q in new["points"] if q["section"] == chorus]
    assert sorted(q["member"] for q in rows) == list(range(MEMBERS))
    for q in rows:  # on that beat (within a frame), every member's poses the move's, within 1 cm
        assert q["beat"] == idx[beat - 1] and abs(q["start_frame"] - t * fps) <= 1.0
    assert_move_danced(ch, new, rows, move, chorus)
    (p,) = page.evaluate("studio.placements()")
    assert (p["section"], p["beat"], p["pending"]) == (chorus, beat, False)  # danced now
    # Undo: back to the version without the move.
    page.click("#moves-undo")
    page.wait_for_function(f"window.studio.jobId === '{job}' && window.studio.ready")
    assert page.evaluate("studio.placements()") == []
    assert errors == []
    page.close()
