"""The service's parts without a server: settings from the environment and a TOML file, the job store's state
machine (claim, progress, cancel, recovery after a dead worker), file names that cannot leave a job's folder,
the upload display name, and docs/API.md's reference matching the app's OpenAPI schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from choreo.api import reference
from choreo.api.jobs import edit_section, output_file
from choreo.api.settings import load_service_settings
from choreo.api.store import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobStore
from choreo.api.uploads import display_name
from choreo.errors import ChoreoError

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"


@pytest.fixture
def env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("CHOREO_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CHOREO_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_settings_from_environment_and_file(env, tmp_path):
    s = load_service_settings()
    assert s.data_dir == (tmp_path / "data").resolve() and s.workers == 1 and s.max_upload_mb == 50
    assert s.database_url == f"sqlite:///{s.data_dir / 'jobs.db'}"
    toml = tmp_path / "settings.toml"
    toml.write_text('workers = 3\nmax_upload_mb = 12.5\nvideo = false\n')
    env.setenv("CHOREO_SETTINGS", str(toml))
    env.setenv("CHOREO_WORKERS", "2")  # the environment wins over the file
    s = load_service_settings()
    assert (s.workers, s.max_upload_mb, s.video) == (2, 12.5, False)
    assert s.max_upload_bytes == int(12.5 * 1024 * 1024)
    assert load_service_settings().to_env()["CHOREO_VIDEO"] == "0"


@pytest.mark.parametrize("key, value, word", [("CHOREO_WORKERS", "many", "workers"),
                                              ("CHOREO_WORKERS", "-1", "workers"),
                                              ("CHOREO_VIDEO", "perhaps", "video"),
                                              ("CHOREO_MAX_UPLOAD_MB", "0", "max_upload_mb")])
def test_bad_settings_are_one_line_errors(env, key, value, word):
    env.setenv(key, value)
    with pytest.raises(ChoreoError, match=word):
        load_service_settings()


def test_unknown_or_broken_settings_file(env, tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text("wokers = 2\n")
    env.setenv("CHOREO_SETTINGS", str(bad))
    with pytest.raises(ChoreoError, match="unknown keys wokers"):
        load_service_settings()
    bad.write_text("workers = \n")
    with pytest.raises(ChoreoError, match="settings file"):
        load_service_settings()


def test_store_state_machine(tmp_path):
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    a = store.create("dance", {"members": 2})
    m = store.create("motion", {"text": "salsa"}, priority=1)
    first = store.claim("host:1")
    assert first.id == m.id and first.status == RUNNING and first.attempts == 1  # short motions first
    assert store.progress(m.id, "host:1", "sampling", 50)
    assert not store.progress(m.id, "host:2", "sampling", 60)  # not this worker's job
    assert store.finish(m.id, "host:1", ["motion.json"])
    assert store.get(m.id).status == DONE and store.get(m.id).files == ["motion.json"]
    job = store.claim("host:1")
    assert job.id == a.id and store.claim("host:1") is None
    store.request_cancel(a.id)
    assert not store.progress(a.id, "host:1", "material", 10)  # the worker is told to stop
    assert store.mark_cancelled(a.id, "host:1") and store.get(a.id).status == CANCELLED
    q = store.create("dance", {})
    assert store.request_cancel(q.id).status == CANCELLED  # a queued job ends at once
    jobs, total = store.list(1, 2)
    assert total == 3 and len(jobs) == 2 and jobs[0].id == q.id  # newest first, paged


def test_recovery_requeues_then_fails_with_the_reason(tmp_path):
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    job = store.create("dance", {})
    claimed = store.claim("nowhere:999999")
    assert store.recover(claimed, "its worker stopped", max_attempts=2) == QUEUED
    again = store.claim("nowhere:999999")
    assert again.attempts == 2
    assert store.recover(again, "its worker stopped", max_attempts=2) == FAILED
    failed = store.get(job.id)
    assert failed.status == FAILED and "attempt 2 of 2" in failed.error and "submit the job again" in failed.error


def test_output_names_never_leave_the_job(tmp_path, env):
    settings = load_service_settings()
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    job = store.create("dance", {})
    folder = settings.jobs_dir / job.id
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "plan.json").write_text("{}")
    (folder / "song.wav").write_bytes(b"RIFF")
    (settings.data_dir / "secret.txt").write_text("x")
    job.files = ["plan.json"]
    assert output_file(settings, job, "plan.json") == folder / "files" / "plan.json"
    assert output_file(settings, job, "song.wav") == folder / "song.wav"
    for name in ("../secret.txt", "..", "../../jobs.db", "/etc/passwd", "files", ".hidden", "song.wav/..",
                 "plan.json\x00", "a" * 200):
        assert output_file(settings, job, name) is None, name


def test_display_name_drops_paths_and_control_characters():
    assert display_name("../../etc/evil.wav") == "evil.wav"
    assert display_name("C:\\Users\\me\\노래.mp3") == "노래.mp3"
    assert display_name("a\x00b\nc.wav") == "abc.wav"
    assert display_name("") == "song" and display_name(None) == "song"
    assert len(display_name("x" * 500)) == 120


def test_editing_a_section_keeps_its_repeats_valid():
    from choreo.choreography.plan import make_plan, validate_plan
    from choreo.music.song import Section, Song

    beats = [i * 0.5 for i in range(160)]
    secs = [Section(0, 16, "A", "verse", 0.4, 1), Section(16, 32, "B", "chorus", 0.8, 1),
            Section(32, 48, "A", "verse", 0.4, 1), Section(48, 64, "B", "chorus", 0.8, 1),
            Section(64, 80, "B", "chorus", 0.8, 1)]
    song = Song(duration=80, sample_rate=24000, tempo=120, beats=beats, downbeats=beats[::4], meter=4,
                sections=secs)
    plan = make_plan(song, members=3)
    assert [s.repeat_of for s in plan.sections] == [None, None, 0, 1, 1]
    edited = edit_section(plan, 1, "a person dances salsa", None)
    assert [s.repeat_of for s in edited.sections] == [None, None, 0, None, 3]
    assert edited.sections[1].prompt == "a person dances salsa"
    assert edited.sections[4].prompt == plan.sections[4].prompt  # the former repeats keep their dance
    validate_plan(edited, song)
    assert [s.repeat_of for s in plan.sections] == [None, None, 0, 1, 1]  # the original is untouched


def test_api_doc_reference_is_current():
    assert reference.main([str(DOC), "--check"]) == 0, "run: python -m choreo.api.reference --write ../docs/API.md"
    text = DOC.read_text()
    from choreo.api.app import create_app

    for path in create_app().openapi()["paths"]:
        assert f" {path}`" in text, path


def test_the_server_process_never_imports_torch():
    import subprocess
    import sys

    # with what the request handlers import when they run: the move library, placements, move files' readers
    code = ("import sys, choreo.api.app, choreo.api.routes, choreo.api.models, choreo.api.uploads, choreo.api.moves, "
            "choreo.choreography.moves, choreo.choreography.points, choreo.choreography.plan, choreo.importers, "
            "choreo.formats.motion_json, choreo.choreography.beat_sync, choreo.foot_contact, choreo.music.analyze; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1]).returncode == 0, \
        "the service's request side imports torch (it belongs in the workers only)"
