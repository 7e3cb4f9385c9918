"""Password hashes for the optional sign-in: salted, checked in constant time, unreadable ones match nothing."""

import hashlib

from audit_lib.ui.passwords import check, make_hash


def test_scrypt_and_pbkdf2_hashes_are_salted_and_checked():
    for method in ["scrypt", "pbkdf2_sha256"]:
        a, b = make_hash("correct horse battery", method), make_hash("correct horse battery", method)
        assert a != b and a.startswith(method + "$")  # a new salt each time
        assert check("correct horse battery", a) and check("correct horse battery", b)
        assert not check("correct horse batterY", a) and not check("", a)


def test_bare_sha256_and_unreadable_values():
    assert check("pw", hashlib.sha256(b"pw").hexdigest()) and not check("px", hashlib.sha256(b"pw").hexdigest())
    for stored in ["", "scrypt$x$8$1$00$00", "scrypt$99999999999$8$1$00$00", "pbkdf2_sha256$1$zz$00", "md5$abc",
                   "plain text password"]:
        assert not check("plain text password", stored), stored
