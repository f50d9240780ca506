"""``python -m dashboard.security.hash_password``: print a bcrypt hash for DASHBOARD_PASSWORD_HASH."""

from __future__ import annotations

import getpass
import sys

from dashboard.security.auth import hash_password


def main() -> int:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Again: "):
            print("passwords differ", file=sys.stderr)
            return 1
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 10:
        print("use at least 10 characters", file=sys.stderr)
        return 1
    print(hash_password(first))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
