"""The service against a real uvicorn on 127.0.0.1 (started as the setup guide does: `python -m uvicorn main:app`
from backend/), with the shipped default model and a synthesized song whose beats the test knows.

Checks: a dance job runs to done and every file downloads with its content type; progress events arrive in
order and end with "done"; a regenerated section changes only that section; a non-audio upload gets 422 and an
oversized one 413 before it is sent whole (declared and chunked); cancel stops a running job; kill -9 mid-job
and a restart re-run the job and keep the finished ones; jobs beyond the worker limit wait queued; path
traversal is refused; text → dance answers with the motion; bad parameters are readable 422s; point moves: a
library move from a span of a dance (seconds or bars) and from an uploaded file (never unpickled), placed on a
section's beat and danced there (other frames unchanged), removed again, and every mistake a clear 4xx.
"""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from choreo.config import DEFAULT_MODEL
from choreo.importers import load_motions
from choreo.music.demo_song import synthesize, write_demo_song

from service import assert_move_danced, body_error, running_service

pytestmark = pytest.mark.skipif(not Path(DEFAULT_MODEL).exists(), reason="the shipped default model is missing")
STRUCTURE = (("intro", 2), ("verse", 4), ("chorus", 4), ("outro", 2))
FAST = {"CHOREO_VIDEO": "0", "CHOREO_CANDIDATES": "1", "CHOREO_MAX_UPLOAD_MB": "4"}


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("song")
    demo = synthesize(structure=STRUCTURE, seed=5)
    path, _ = write_demo_song(folder / "demo song.wav", demo)
    return Path(path), demo.truth


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("service"), **FAST) as s:
        yield s


def submit(svc, song: Path, **fields) -> str:
    data = {"members": "3", "seed": "1", **{k: str(v) for k, v in fields.items()}}
    with open(song, "rb") as f:
        r = httpx.post(f"{svc.url}/api/v1/choreographies", files={"song": (song.name, f, "audio/wav")},
                       data=data, timeout=60)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    return r.json()["id"]


def get(svc, job_id: str, kind: str = "choreographies") -> dict:
    r = httpx.get(f"{svc.url}/api/v1/{kind}/{job_id}", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(svc, job_id: str, statuses=("done", "failed", "cancelled"), timeout: float = 300,
             kind: str = "choreographies", progress: float = -1.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get(svc, job_id, kind)
        if job["status"] in statuses and job["progress"] >= progress:
            return job
        if job["status"] in ("done", "failed", "cancelled") and job["status"] not in statuses:
            raise AssertionError(f"job ended {job['status']}: {job['error']}")
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {get(svc, job_id, kind)['status']} after {timeout} s\n"
                         f"{svc.log_text()[-2000:]}")


def events(svc, job_id: str) -> list[tuple[str, dict]]:
    out = []
    with httpx.stream("GET", f"{svc.url}/api/v1/choreographies/{job_id}/events", timeout=300) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                out.append((name, json.loads(line[6:])))
    return out


@pytest.fixture(scope="module")
def finished(svc, song):
    """One dance job followed through its events to the end."""
    job_id = submit(svc, song[0])
    evs = events(svc, job_id)
    return job_id, evs


def test_dance_job_runs_to_done_with_ordered_events(svc, finished):
    job_id, evs = finished
    names = [n for n, _ in evs]
    assert names[-1] == "done" and set(names[:-1]) == {"progress"}
    progress = [d["progress"] for _, d in evs]
    assert progress == sorted(progress), "progress went backwards"
    assert progress[-1] == 100.0
    stages = [d["stage"] for n, d in evs if n == "progress"]
    seen = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    assert "material" in seen and "transitions" in seen and seen[-1] == "done"
    assert seen.index("material") < seen.index("transitions")
    job = get(svc, job_id)
    assert job["status"] == "done" and job["error"] is None and job["song_name"] == "demo song.wav"
    assert job["finished"] >= job["created"]


def test_every_file_downloads_with_its_type(svc, finished, song):
    job_id, _ = finished
    job = get(svc, job_id)
    want = {"choreography.json", "choreography.glb", "plan.json", "analysis.json", "member_01.bvh",
            "member_03.bvh", "song.wav"}
    assert want <= set(job["files"])
    types = {"choreography.json": "application/json", "choreography.glb": "model/gltf-binary",
             "member_01.bvh": "text/plain", "song.wav": "audio/wav", "analysis.json": "application/json"}
    base = f"{svc.url}/api/v1/choreographies/{job_id}/files"
    for name, kind in types.items():
        r = httpx.get(f"{base}/{name}", timeout=30)
        assert r.status_code == 200, name
        assert r.headers["content-type"].startswith(kind), (name, r.headers["content-type"])
    ch = httpx.get(f"{base}/choreography.json", timeout=30).json()
    assert len(ch["members"]) == 3
    assert httpx.get(f"{base}/choreography.glb", timeout=30).content[:4] == b"glTF"
    assert httpx.get(f"{base}/member_01.bvh", timeout=30).text.startswith("HIERARCHY")
    assert httpx.get(f"{base}/song.wav", timeout=30).content == song[0].read_bytes()
    tempo = httpx.get(f"{base}/analysis.json", timeout=30).json()["tempo"]
    assert abs(tempo - song[1]["tempo"]) < 1.0
    # the song seeks: a range request gets 206 and just those bytes
    r = httpx.get(f"{base}/song.wav", headers={"range": "bytes=100-199"}, timeout=30)
    assert r.status_code == 206 and r.content == song[0].read_bytes()[100:200]


def test_listing_and_unknown_ids(svc, finished):
    job_id, _ = finished
    page = httpx.get(f"{svc.url}/api/v1/choreographies", params={"per_page": 100}, timeout=30).json()
    assert job_id in [j["id"] for j in page["items"]] and page["total"] >= 1
    r = httpx.get(f"{svc.url}/api/v1/choreographies/{'0' * 32}", timeout=30)
    assert r.status_code == 404 and "no choreography job" in r.json()["detail"]
    assert httpx.get(f"{svc.url}/api/v1/choreographies", params={"page": 0}, timeout=30).status_code == 422


def test_path_traversal_is_refused(svc, finished):
    job_id, _ = finished
    base = f"/api/v1/choreographies/{job_id}/files"
    for name in ("..%2F..%2Fjobs.db", "%2e%2e", "..", "../../jobs.db", "files", "work", ".%2Fplan.json",
                 "song.wav%00.json", "upload.part", "..%5Cjobs.db", "%2e%2e%2f%2e%2e%2fjobs.db"):
        # sent as raw bytes: an HTTP client would resolve the dot segments before they reach the server
        response, _ = _raw_request(svc.port, f"GET {base}/{name} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                   .encode(), [])
        status = response.split(b" ", 2)[1]
        assert status in (b"404", b"400"), (name, response[:300])
        assert b"jobs.db" not in response.split(b"\r\n\r\n", 1)[-1] or b"detail" in response
    # a client's file name never becomes a path: the upload is stored as song.<ext> in the job's own folder
    evil = svc.data_dir / "evil.wav"
    assert not evil.exists()


def test_uploaded_name_with_a_path_stays_inside(svc, song):
    with open(song[0], "rb") as f:
        r = httpx.post(f"{svc.url}/api/v1/choreographies", files={"song": ("../../../evil.wav", f, "audio/wav")},
                       data={"members": "2"}, timeout=60)
    assert r.status_code == 202
    job_id = r.json()["id"]
    httpx.post(f"{svc.url}/api/v1/choreographies/{job_id}/cancel", timeout=30)
    job = get(svc, job_id)
    assert job["song_name"] == "evil.wav"
    assert not list(svc.data_dir.parent.rglob("evil.wav"))
    assert (svc.data_dir / "jobs" / job_id / "song.wav").is_file()


def test_regenerating_a_section_changes_only_it(svc, finished):
    job_id, _ = finished
    base = f"{svc.url}/api/v1/choreographies"
    r = httpx.post(f"{base}/{job_id}/sections/2/regenerate", json={"prompt": "a person dances salsa"}, timeout=30)
    assert r.status_code == 202, r.text
    new_id = r.json()["id"]
    job = wait_for(svc, new_id)
    assert job["status"] == "done", job["error"]
    assert job["parent"] == job_id and job["kind"] == "regenerate"
    old = httpx.get(f"{base}/{job_id}/files/choreography.json", timeout=30).json()
    new = httpx.get(f"{base}/{new_id}/files/choreography.json", timeout=30).json()
    assert new["plan"]["sections"][2]["prompt"] == "a person dances salsa"
    spans = [(s["start_frame"], s["end_frame"]) for s in old["sections"]]
    for k, (a, b) in enumerate(spans):
        for m_old, m_new in zip(old["members"], new["members"], strict=True):
            x = np.asarray(m_old["joints"], float)[a:b]
            y = np.asarray(m_new["joints"], float)[a:b]
            if k == 2:
                assert np.abs(x - y).max() > 0.05, "the regenerated section did not change"
            else:
                assert np.array_equal(x, y), f"section {k} changed"
    # errors: a section that does not exist, a formation that does not fit, a job that is not done
    assert httpx.post(f"{base}/{job_id}/sections/99/regenerate", json={}, timeout=30).status_code == 422
    r = httpx.post(f"{base}/{job_id}/sections/1/regenerate", json={"formation": "nope"}, timeout=30)
    assert r.status_code == 422 and "formation" in r.json()["detail"]


def _section_beats(ch: dict, k: int) -> list[int]:
    sec = ch["plan"]["sections"][k]
    return [i for i, b in enumerate(ch["song"]["beats"]) if sec["start"] - 1e-3 <= b < sec["end"] - 1e-3]


def test_moves_from_a_span_and_from_a_file(svc, finished, tmp_path):
    job_id, _ = finished
    api = f"{svc.url}/api/v1"
    ch = httpx.get(f"{api}/choreographies/{job_id}/files/choreography.json", timeout=30).json()
    beats, tempo, fps = ch["song"]["beats"], ch["song"]["tempo"], ch["fps"]
    longest = max(range(len(ch["sections"])), key=lambda k: len(_section_beats(ch, k)))
    i = _section_beats(ch, longest)[4]
    span = {"name": "span-move", "member": 2, "start": beats[i], "end": beats[i + 4]}
    r = httpx.post(f"{api}/choreographies/{job_id}/moves", json=span, timeout=60)
    assert r.status_code == 201, r.text
    move = r.json()
    assert move["beats"] == pytest.approx(4.0, abs=0.15) and move["bpm"] == pytest.approx(tempo)
    assert move["name"] in [m["name"] for m in httpx.get(f"{api}/moves", timeout=30).json()["moves"]]
    full = httpx.get(f"{api}/moves/span-move", timeout=30).json()
    joints = np.asarray(full["joints"])
    a = int(round(beats[i] * fps))
    assert body_error(joints, np.asarray(ch["members"][1]["joints"])[a : a + len(joints)]) < 0.01  # member 2's
    r = httpx.post(f"{api}/choreographies/{job_id}/moves", json={"name": "bar-move", "start_bar": 2, "end_bar": 2},
                   timeout=60)
    assert r.status_code == 201 and r.json()["beats"] == pytest.approx(ch["song"]["meter"], abs=0.15), r.text
    for body, code, word in [
        (span, 409, "exists already"), ({**span, "name": "../up"}, 422, "not allowed"),
        ({**span, "name": "m9", "member": 9}, 422, "member"), ({**span, "name": "late", "end": 999.0}, 422, "end 999"),
        ({**span, "name": "both", "start_bar": 1, "end_bar": 2}, 422, "one of the two"),
        ({"name": "nobar", "start_bar": 90, "end_bar": 91}, 422, "start_bar 90"),
    ]:
        r = httpx.post(f"{api}/choreographies/{job_id}/moves", json=body, timeout=60)
        assert r.status_code == code and word in r.json()["detail"], (body, r.text)
    r = httpx.post(f"{api}/choreographies/{'0' * 32}/moves", json=span, timeout=30)
    assert r.status_code == 404
    # An uploaded motion file: the dance's own BVH of member 1, cropped to the same 4 beats at the song's tempo.
    bvh = httpx.get(f"{api}/choreographies/{job_id}/files/member_01.bvh", timeout=30).content
    form = {"name": "from-bvh", "start": str(beats[i]), "end": str(beats[i + 4]), "bpm": str(tempo)}
    r = httpx.post(f"{api}/moves", data=form, files={"file": ("my dance.bvh", bvh)}, timeout=60)
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "my dance.bvh" and r.json()["beats"] == pytest.approx(4.0, abs=0.15)
    got = np.asarray(httpx.get(f"{api}/moves/from-bvh", timeout=30).json()["joints"])
    (tmp_path / "member_01.bvh").write_bytes(bvh)
    read = load_motions(tmp_path / "member_01.bvh")[0].joints  # the file as choreo reads it (BVH's own rounding)
    assert body_error(got, read[a : a + len(got)], own_floor=True) < 0.01
    # A pickle is never unpickled: loading it would create the marker file.
    marker = tmp_path / "unpickled"
    evil = tmp_path / "results.npy"
    np.save(evil, np.array([_Touch(str(marker))], dtype=object), allow_pickle=True)
    for name, content, code, word in [
        ("results.npy", evil.read_bytes(), 422, "results.npy"), ("notes.txt", b"hello", 422, "a move file is"),
        ("broken.bvh", b"HIERARCHY\nROOT x {", 422, "broken.bvh"), ("huge.bvh", b"0" * (5 << 20), 413, "limit"),
    ]:
        r = httpx.post(f"{api}/moves", data={"name": "bad"}, files={"file": (name, content)}, timeout=60)
        assert r.status_code == code and word in r.json()["detail"], (name, r.text)
        assert str(svc.data_dir) not in r.json()["detail"]  # our paths stay ours
    assert not marker.exists()
    assert "bad" not in [m["name"] for m in httpx.get(f"{api}/moves", timeout=30).json()["moves"]]
    # Delete: gone from the library; an unknown name is 404.
    assert httpx.delete(f"{api}/moves/bar-move", timeout=30).status_code == 200
    r = httpx.delete(f"{api}/moves/bar-move", timeout=30)
    assert r.status_code == 404 and "no move named 'bar-move'" in r.json()["detail"]
    assert httpx.get(f"{api}/moves/bar-move", timeout=30).status_code == 404
    for name in ("span-move", "from-bvh"):  # the library as it was: other tests expect it empty
        assert httpx.delete(f"{api}/moves/{name}", timeout=30).status_code == 200


class _Touch:
    """Unpickling this creates a file: proof that something was unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # noqa: ANN204
        return (open, (self.path, "w"))


def test_a_placed_move_is_danced_on_its_beat_then_removed(svc, finished):
    from choreo.choreography.moves import Move

    job_id, _ = finished
    api = f"{svc.url}/api/v1"
    base = f"{api}/choreographies"
    ch = httpx.get(f"{base}/{job_id}/files/choreography.json", timeout=30).json()
    beats, fps = ch["song"]["beats"], ch["fps"]
    chorus = next((k for k, s in enumerate(ch["sections"]) if s["kind"] == "chorus" and k > 0),
                  max(range(1, len(ch["sections"])), key=lambda k: len(_section_beats(ch, k))))
    idx = _section_beats(ch, chorus)
    if "span-move" not in [m["name"] for m in httpx.get(f"{api}/moves", timeout=30).json()["moves"]]:
        i = idx[0]
        r = httpx.post(f"{base}/{job_id}/moves", json={"name": "span-move", "start": beats[i], "end": beats[i + 4]},
                       timeout=60)
        assert r.status_code == 201, r.text
    long = {"name": "long-move", "start": 0.0, "end": beats[min(len(beats) - 1, len(idx) + 2)]}
    assert httpx.post(f"{base}/{job_id}/moves", json=long, timeout=60).status_code == 201
    points = f"{base}/{job_id}/sections/{chorus}/points"
    # Checked first (dry run): the placement as it would be danced, on the song's beat, for every member.
    r = httpx.put(points, json={"points": [{"move": "span-move", "beats": [5]}], "dry_run": True}, timeout=30)
    assert r.status_code == 200, r.text
    planned = r.json()["placements"]
    assert sorted(p["member"] for p in planned) == [0, 1, 2] and {p["beat"] for p in planned} == {idx[4]}
    n = len(idx)
    for body, word in [
        ({"move": "nope", "beats": [5]}, "unknown move 'nope'"),
        ({"move": "span-move", "beats": [n + 3]}, "past the section's end"),
        ({"move": "span-move", "beats": [n - 2]}, "past the section's end ("),
        ({"move": "long-move", "beats": [5]}, "longer than section"),
        ({"move": "span-move", "beats": [1]}, "where a section danced again on its own joins"),
        ({"move": "span-move", "beats": [5], "members": [4]}, "member 4 does not exist"),
        ({"move": "span-move", "bars": [2], "beats": [5]}, "one of the two"),
    ]:
        r = httpx.post(points, json={**body, "dry_run": True}, timeout=30)
        assert r.status_code == 422 and word in r.json()["detail"], (body, r.text)
    r = httpx.put(points, json={"points": [{"move": "span-move", "beats": [5]}, {"move": "span-move", "beats": [7]}],
                                "dry_run": True}, timeout=30)
    assert r.status_code == 422 and "overlapping" in r.json()["detail"]
    assert httpx.put(f"{base}/{'0' * 32}/sections/{chorus}/points", json={"points": []}, timeout=30).status_code == 404
    assert httpx.put(f"{base}/{job_id}/sections/99/points", json={"points": []}, timeout=30).status_code == 422
    # Placed for real: a new job whose parent is the dance; the move on beat 5, the member's poses the move's.
    r = httpx.post(points, json={"move": "span-move", "beats": [5], "members": [1, 3]}, timeout=30)
    assert r.status_code == 202 and r.json()["parent"] == job_id, r.text
    placed_id = r.json()["id"]
    job = wait_for(svc, placed_id)
    assert job["status"] == "done" and job["kind"] == "regenerate", job["error"]
    new = httpx.get(f"{base}/{placed_id}/files/choreography.json", timeout=30).json()
    assert new["plan"]["sections"][chorus]["points"] == [{"move": "span-move", "bars": [], "beats": [5],
                                                          "members": [1, 3]}]
    move = Move.from_dict(httpx.get(f"{api}/moves/span-move", timeout=30).json())
    rows = [p for p in new["points"] if p["section"] == chorus]
    assert sorted(p["member"] for p in rows) == [0, 2]
    for p in rows:
        assert p["beat"] == idx[4] and abs(p["start_frame"] - beats[idx[4]] * fps) <= 1.0
    assert_move_danced(ch, new, rows, move, chorus)
    # Removed again: the section is danced without it.
    assert httpx.delete(f"{base}/{placed_id}/sections/{chorus}/points/3", timeout=30).status_code == 404
    r = httpx.delete(f"{base}/{placed_id}/sections/{chorus}/points/0", timeout=30)
    assert r.status_code == 202, r.text
    job = wait_for(svc, r.json()["id"])
    assert job["status"] == "done" and job["parent"] == placed_id, job["error"]
    gone = httpx.get(f"{base}/{job['id']}/files/choreography.json", timeout=30).json()
    assert gone["plan"]["sections"][chorus]["points"] == []
    assert not [p for p in gone["points"] if p["section"] == chorus]
    for name in ("span-move", "long-move"):
        assert httpx.delete(f"{api}/moves/{name}", timeout=30).status_code == 200


def test_non_audio_upload_gets_422(svc, tmp_path):
    junk = tmp_path / "song.mp3"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    for name, content in (("song.mp3", junk.read_bytes()), ("notes.txt", b"hello, not a song\n"),
                          ("empty.wav", b"")):
        r = httpx.post(f"{svc.url}/api/v1/choreographies", files={"song": (name, content)}, timeout=60)
        assert r.status_code == 422, (name, r.text)
        detail = r.json()["detail"]
        assert detail.startswith("not a song we can use") and name in detail, detail
        assert str(svc.data_dir) not in detail  # our paths stay ours
    assert not [p for p in (svc.data_dir / "jobs").iterdir() if not (p / "song.wav").exists()
                and not list(p.glob("song.*"))], "a refused upload left a folder behind"


def test_bad_parameters_are_readable_422(svc, song):
    cases = [({"members": "0"}, "members"), ({"members": "13"}, "members"), ({"seed": "-1"}, "seed"),
             ({"style": "tango"}, "style"), ({"formations": "v,blob"}, "formations"),
             ({"section_prompts": "{not json"}, "section_prompts"), ({"plan": "[1, 2]"}, "plan"),
             ({"model": "nope"}, "model"), ({"point_move": "nope"}, "point move")]
    for fields, word in cases:
        with open(song[0], "rb") as f:
            r = httpx.post(f"{svc.url}/api/v1/choreographies", files={"song": ("a.wav", f)}, data=fields, timeout=60)
        assert r.status_code == 422, (fields, r.text)
        assert word in r.json()["detail"], (fields, r.json())


def _raw_request(port: int, head: bytes, body_chunks, read_timeout: float = 20.0) -> tuple[bytes, int]:
    """Send `head`, then body chunks until the server answers; returns (response bytes, body bytes sent)."""
    sent = 0
    response = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as s:
        s.sendall(head)
        for chunk in body_chunks:
            if select.select([s], [], [], 0)[0]:  # the server has answered (or closed): stop sending
                break
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(chunk)
        s.settimeout(read_timeout)
        try:
            while True:
                more = s.recv(65536)
                if not more:
                    break
                response += more
                if b"\r\n\r\n" in response and b"connection: close" not in response.lower():
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return response, sent


def test_oversized_upload_gets_413_before_it_is_read(svc):
    limit = 4 * 1024 * 1024
    declared = 40 * 1024 * 1024
    head = (f"POST /api/v1/choreographies HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {declared}\r\n\r\n").encode()
    chunks = (b"x" * 65536 for _ in range(declared // 65536))
    response, sent = _raw_request(svc.port, head, chunks)
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b"connection: close" in response.lower()
    assert b"larger than the service's limit of 4 MB" in response
    assert sent < declared / 2, f"the server let {sent} of {declared} bytes arrive before refusing"
    # chunked: no length declared, cut off once the cap is passed
    head = (b"POST /api/v1/choreographies HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    preamble = b'--b\r\nContent-Disposition: form-data; name="song"; filename="big.wav"\r\n\r\n'
    pieces = [preamble] + [b"x" * 65536] * (3 * limit // 65536)  # a well-formed part that never ends
    chunks = (b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    response, sent = _raw_request(svc.port, head, chunks)
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert sent < 3 * limit


def test_cancel_stops_a_running_job(svc, song):
    job_id = submit(svc, song[0], members=4)
    wait_for(svc, job_id, statuses=("running",), progress=5)
    r = httpx.post(f"{svc.url}/api/v1/choreographies/{job_id}/cancel", timeout=30)
    assert r.status_code == 200
    job = wait_for(svc, job_id, statuses=("cancelled",), timeout=60)
    assert job["files"] == ["song.wav"]  # no outputs of a cancelled job
    assert not (svc.data_dir / "jobs" / job_id / "work").exists()
    assert httpx.post(f"{svc.url}/api/v1/choreographies/{job_id}/cancel", timeout=30).status_code == 409
    # the worker is free again: a short motion runs next
    r = httpx.post(f"{svc.url}/api/v1/motions", json={"text": "a person dances salsa", "seconds": 3, "seed": 1},
                   timeout=120)
    assert r.status_code == 200, r.text


def test_delete_removes_the_job_and_its_files(svc, song):
    job_id = submit(svc, song[0], members=1)
    folder = svc.data_dir / "jobs" / job_id
    assert folder.is_dir()
    r = httpx.delete(f"{svc.url}/api/v1/choreographies/{job_id}", timeout=30)
    assert r.status_code == 200 and r.json()["deleted"]
    assert httpx.get(f"{svc.url}/api/v1/choreographies/{job_id}", timeout=30).status_code == 404
    time.sleep(1.0)  # a worker that had taken it sees the record gone
    assert not folder.exists()


def test_text_to_dance_answers_with_the_motion(svc):
    r = httpx.post(f"{svc.url}/api/v1/motions",
                   json={"text": "a person dances salsa", "seconds": 6, "seed": 3, "samples": 2}, timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "done" and len(body["motions"]) == 2
    joints = np.asarray(body["motions"][0]["motion"], float)
    assert joints.shape == (120, 22, 3)
    assert joints[..., 1].min() > -0.05  # on the floor, not under it
    assert "motion_01.bvh" in body["files"] or "motion.bvh" in body["files"]
    name = next(n for n in body["files"] if n.endswith(".bvh"))
    r = httpx.get(f"{svc.url}/api/v1/motions/{body['id']}/files/{name}", timeout=30)
    assert r.status_code == 200 and r.text.startswith("HIERARCHY")
    for bad, word in (({"text": "", "seconds": 6}, "text"), ({"text": "salsa", "seconds": 0}, "seconds"),
                      ({"text": "salsa", "seconds": 6, "samples": 99}, "samples"),
                      ({"text": "salsa", "seconds": 6, "seed": -4}, "seed")):
        r = httpx.post(f"{svc.url}/api/v1/motions", json=bad, timeout=30)
        assert r.status_code == 422 and word in r.json()["detail"], (bad, r.text)
    # a motion job is not a choreography
    assert httpx.get(f"{svc.url}/api/v1/choreographies/{body['id']}", timeout=30).status_code == 404


def test_analyze_finds_the_songs_tempo_and_models_are_listed(svc, song):
    with open(song[0], "rb") as f:
        r = httpx.post(f"{svc.url}/api/v1/analyze", files={"song": ("x.wav", f)}, timeout=180)
    assert r.status_code == 200, r.text
    data = r.json()
    assert abs(data["tempo"] - song[1]["tempo"]) < 1.0 and data["source"] == "x.wav"
    assert len(data["sections"]) >= 2
    models = httpx.get(f"{svc.url}/api/v1/models", timeout=30).json()["models"]
    assert sum(m["default"] for m in models) == 1
    assert any(m["card"] and "Model card" in m["card"] for m in models)
    assert httpx.get(f"{svc.url}/api/v1/moves", timeout=30).json() == {"moves": []}  # a fresh library
    assert httpx.get(f"{svc.url}/docs", timeout=30).status_code == 200
    spec = httpx.get(f"{svc.url}/openapi.json", timeout=30).json()
    assert "/api/v1/choreographies/{job_id}/sections/{index}/regenerate" in spec["paths"]


def test_jobs_beyond_the_worker_limit_wait_queued(tmp_path, song):
    with running_service(tmp_path / "data", workers=1, **FAST) as svc:
        a = submit(svc, song[0], members=2)
        b = submit(svc, song[0], members=2, seed=2)
        both_seen = False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            # One listing, one query: two GETs could straddle a finishing and b starting.
            listed = httpx.get(f"{svc.url}/api/v1/choreographies", timeout=30).json()["items"]
            ja, jb = (next(j for j in listed if j["id"] == x) for x in (a, b))
            assert not (ja["status"] == "running" and jb["status"] == "running"), "two jobs ran on one worker"
            if ja["status"] == "running" and jb["status"] == "queued":
                both_seen = True
            if ja["status"] == "done" and jb["status"] == "done":
                break
            time.sleep(0.1)
        assert both_seen, "the second job was never seen waiting while the first ran"
        assert get(svc, a)["status"] == get(svc, b)["status"] == "done"


def test_kill_9_mid_job_then_restart_reruns_it(tmp_path, song):
    data = tmp_path / "data"
    with running_service(data, **FAST) as svc:
        done_id = submit(svc, song[0], members=1)
        wait_for(svc, done_id)
        job_id = submit(svc, song[0], members=3)
        wait_for(svc, job_id, statuses=("running",), progress=5)
        svc.kill()
    with running_service(data, **FAST) as svc:
        listed = [j["id"] for j in httpx.get(f"{svc.url}/api/v1/choreographies", timeout=30).json()["items"]]
        assert done_id in listed and job_id in listed
        assert httpx.get(f"{svc.url}/api/v1/choreographies/{done_id}/files/choreography.json",
                         timeout=30).status_code == 200
        job = wait_for(svc, job_id)
        assert job["status"] == "done", job["error"]
        assert job["attempts"] == 2
        ch = httpx.get(f"{svc.url}/api/v1/choreographies/{job_id}/files/choreography.json", timeout=30).json()
        assert len(ch["members"]) == 3


def test_a_job_that_keeps_dying_fails_with_a_reason(tmp_path, song):
    data = tmp_path / "data"
    with running_service(data, CHOREO_MAX_ATTEMPTS="1", **FAST) as svc:
        job_id = submit(svc, song[0], members=2)
        wait_for(svc, job_id, statuses=("running",), progress=1)
        svc.kill()
    with running_service(data, CHOREO_MAX_ATTEMPTS="1", **FAST) as svc:
        job = wait_for(svc, job_id, statuses=("failed",), timeout=60)
        assert "worker stopped" in job["error"] and "submit the job again" in job["error"]
