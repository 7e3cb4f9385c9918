"""Password hashes for the app's optional sign-in, kept in `.streamlit/secrets.toml` as `password_hash`.

    python -m audit_lib.ui.passwords          # asks for the password twice, prints the line to paste

A hash is `scrypt$<n>$<r>$<p>$<salt hex>$<key hex>` (the default) or `pbkdf2_sha256$<iterations>$<salt
hex>$<key hex>`, each with a random 16-byte salt. A bare SHA-256 hex digest (`password_sha256`) is accepted
too but has no salt and is fast to guess: prefer `password_hash`.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import sys

SCRYPT = {"n": 2**15, "r": 8, "p": 1}
PBKDF2_ITERATIONS = 600_000
_MAXMEM = 64 * 1024 * 1024


def make_hash(password: str, method: str = "scrypt") -> str:
    """A salted hash of `password` for `password_hash` ("scrypt" or "pbkdf2_sha256")."""
    salt = os.urandom(16)
    if method == "scrypt":
        key = hashlib.scrypt(password.encode(), salt=salt, maxmem=_MAXMEM, dklen=32, **SCRYPT)
        return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${key.hex()}"
    if method == "pbkdf2_sha256":
        key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ITERATIONS)
        return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt.hex()}${key.hex()}"
    raise ValueError(f"unknown method {method!r}: use scrypt or pbkdf2_sha256")


def check(password: str, stored: str) -> bool:
    """True when `password` matches `stored` (a `make_hash` result, or a bare SHA-256 hex digest). A stored
    value that cannot be read matches nothing."""
    try:
        parts = stored.strip().split("$")
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            salt, key = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
            got = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=len(key))
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            salt, key = bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
            got = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(parts[1]), dklen=len(key))
        elif len(parts) == 1 and len(parts[0]) == 64:
            key, got = bytes.fromhex(parts[0]), hashlib.sha256(password.encode()).digest()
        else:
            return False
    except (ValueError, OverflowError, MemoryError):
        return False
    return hmac.compare_digest(got, key)


def main() -> int:
    first = getpass.getpass("Password for the app: ")
    if len(first) < 12:
        print("Use at least 12 characters.", file=sys.stderr)
        return 1
    if getpass.getpass("Once more: ") != first:
        print("The two passwords differ.", file=sys.stderr)
        return 1
    print(f'password_hash = "{make_hash(first)}"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
