"""Which server folders the app may load: default roots, configured roots, resolved checks, fingerprints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audit_lib.errors import SourceError
from audit_lib.intake.discover import discover
from audit_lib.ui import roots
from audit_lib.ui.roots import APP_DIR, ENV_VAR, SAMPLES, allowed_roots, check_path, path_fingerprint

LINE = b"[2026-11-02 10:00:00,000]  INFO {AUDIT_LOG} - admin logged in at [Mon Nov 02 10:00:00 UTC 2026]\n"


class BrokenSecrets(dict):
    def get(self, key, default=None):
        raise FileNotFoundError("no secrets.toml")


def test_by_default_only_the_samples_are_allowed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert allowed_roots({}, {}) == [SAMPLES.resolve()]
    assert allowed_roots(BrokenSecrets(), {}) == [SAMPLES.resolve()]
    with pytest.raises(SourceError, match="Refused"):
        check_path(str(tmp_path), allowed_roots({}, {}))  # the working directory is not a root
    with pytest.raises(SourceError, match="Refused"):
        check_path("/", allowed_roots({}, {}))


def test_operators_add_roots_in_secrets_or_the_environment(tmp_path):
    a, b, c = (tmp_path / n for n in "abc")
    for p in (a, b, c):
        p.mkdir()
    got = allowed_roots({"allowed_roots": [str(a), str(b)]}, {ENV_VAR: f"{c}{os.pathsep}{a}{os.pathsep}"})
    assert got == [SAMPLES.resolve(), a.resolve(), b.resolve(), c.resolve()]
    assert allowed_roots({"allowed_roots": f"{a}{os.pathsep}{b}"}, {}) == [SAMPLES.resolve(), a, b]
    assert allowed_roots({"allowed_roots": ["samples/mi-node-1"]}, {})[1] == APP_DIR / "samples" / "mi-node-1"
    assert allowed_roots({"allowed_roots": ["bad\x00root", ""]}, {}) == [SAMPLES.resolve()]


def test_the_app_secrets_file_and_dot_dot_escapes_are_refused():
    allowed = allowed_roots({}, {})
    for text in [str(APP_DIR / ".streamlit" / "secrets.toml"), str(SAMPLES / ".." / ".streamlit"),
                 str(SAMPLES / "mi-node-1" / ".." / ".." / "audit_lib")]:
        with pytest.raises(SourceError, match="Refused") as err:
            check_path(text, allowed)
        assert "allowed_roots" in str(err.value)
    assert check_path(str(SAMPLES / "mi-node-1"), allowed) == (SAMPLES / "mi-node-1").resolve()


def test_a_symlink_leaving_the_root_is_refused_without_saying_where_it_points(tmp_path):
    root, private = tmp_path / "logs", tmp_path / "private-area"
    root.mkdir()
    (private / "x").mkdir(parents=True)
    (root / "link").symlink_to(private, target_is_directory=True)
    with pytest.raises(SourceError, match="Refused") as err:
        check_path(str(root / "link"), [root.resolve()])
    assert "private-area" not in str(err.value)
    with pytest.raises(SourceError, match="Refused"):  # outside: no hint whether it exists
        check_path(str(private / "missing"), [root.resolve()])
    with pytest.raises(SourceError, match="No such file or folder"):
        check_path(str(root / "missing"), [root.resolve()])


@pytest.mark.parametrize("text, message", [("", "Type the path"), ("   ", "Type the path"),
                                           ("/var/log\x00/x", "NUL"), ("/" + "a" * 5000, "too long"),
                                           ("/" + "b" * 300, "too long")])
def test_bad_text_gives_one_clear_line(text, message):
    with pytest.raises(SourceError, match=message) as err:
        check_path(text, allowed_roots({}, {}))
    assert "\n" not in str(err.value) and "\x00" not in str(err.value) and len(str(err.value)) < 300


def test_fingerprint_changes_with_the_files_and_never_opens_or_leaves_the_roots(tmp_path):
    root, outside = tmp_path / "logs", tmp_path / "outside"
    (root / "mi-1").mkdir(parents=True)
    outside.mkdir()
    (outside / "audit.log").write_bytes(LINE)
    f = root / "mi-1" / "audit.log"
    f.write_bytes(LINE)
    os.mkfifo(root / "mi-1" / "audit-11-01-2026.log")
    (root / "away").symlink_to(outside, target_is_directory=True)
    before = path_fingerprint(root, [root])
    assert [name for name, _, _ in before] == ["mi-1/audit.log"]
    f.write_bytes(LINE * 2)
    after = path_fingerprint(root, [root])
    assert after != before and after[0][1] == len(LINE) * 2
    assert [n for n, _, _ in path_fingerprint(root)] == ["away/audit.log", "mi-1/audit.log"]
    assert path_fingerprint(f) == (("audit.log", len(LINE) * 2, f.stat().st_mtime_ns),)
    assert path_fingerprint(tmp_path / "missing") == ()


def test_a_checked_folder_loads_with_the_same_roots(tmp_path):
    root = tmp_path / "logs"
    (root / "mi-1").mkdir(parents=True)
    (root / "mi-1" / "audit.log").write_bytes(LINE)
    (root / "mi-1" / "audit-01-01-2026.log").symlink_to(APP_DIR / "README.md")
    allowed = roots.allowed_roots({"allowed_roots": [str(root)]}, {})
    path = check_path(str(root / "mi-1"), allowed)
    entries, skipped = discover(path, roots=allowed)
    assert [e.source for e in entries] == ["audit.log"]
    assert [str(s) for s in skipped] == ["audit-01-01-2026.log: symlink leaves the allowed folders"]
    assert str(Path(APP_DIR)) not in " ".join(map(str, skipped))
