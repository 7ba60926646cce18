# SPDX-License-Identifier: Apache-2.0
"""The exceptions of the circuit package, one class per exit code of the CLI."""
from __future__ import annotations

from typing import Any, Dict, Optional


class Error(Exception):
    """An operation failed (the CLI's exit code 1).

    ``message`` is the server's (or libcircuit's) one-line message, ``code``
    its error code: a wire name such as ``"not-found"``, ``"invalid"``,
    ``"wrong-kind"``, ``"exists"``, or, for failures of the client's own
    (connecting, keys, deadlines), ``"connect"``, ``"key"``, ``"deadline"``...
    """

    exit_code = 1

    def __init__(self, message: str, code: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class UsageError(Error):
    """A usage or configuration mistake: wrong arguments, a bad spec, an
    address or key that cannot be used (exit code 2)."""

    exit_code = 2


class Unreachable(Error):
    """No server, the wrong server, a lost connection, or the element's owner
    unavailable now; retrying may help (exit code 3)."""

    exit_code = 3


class Closed(Error):
    """The end of a closed channel or feed (exit code 4)."""

    exit_code = 4


class ProcessFailed(Error):
    """A waited process or container failed (exit code 5); raised only by
    ``wait(check=True)``. ``status`` is what ``wait`` returned."""

    exit_code = 5

    def __init__(
        self, message: str, code: str = "failed", status: Optional[Dict[str, Any]] = None
    ) -> None:
        super().__init__(message, code)
        self.status: Dict[str, Any] = status if status is not None else {}


class Timeout(Error):
    """A timeout passed: the call was cancelled on the server (exit code 6)."""

    exit_code = 6


class UnauthenticatedWarning(UserWarning):
    """A discovery answer came unsealed: anyone on that network could have sent it."""
