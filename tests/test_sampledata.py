"""The demo set is made by the generator, byte for byte, and the generator is deterministic."""

from __future__ import annotations

import hashlib

from audit_lib.sampledata import write_demo, write_mi_corpus


def digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_committed_samples_are_what_the_generator_writes(tmp_path, samples_dir):
    write_demo(tmp_path / "demo")
    assert digests(tmp_path / "demo") == digests(samples_dir)


def test_corpus_has_the_requested_lines(tmp_path):
    write_mi_corpus(tmp_path, 1000, days=4)
    files = sorted(tmp_path.rglob("audit*.log"))
    assert len(files) == 4
    assert sum(len(f.read_bytes().splitlines()) for f in files) == 1000
