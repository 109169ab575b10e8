"""sealrun's exceptions: one class per kind of failure of the C++ core.

Every failure raises a subclass of :class:`Error`; each also derives from the
built-in exception a Python user would catch for it where one fits
(``InvalidInput`` is a ``ValueError``, ``NotFound`` a ``LookupError``, a
missing store, layout or archive file a ``FileNotFoundError``, ...). The
message is the C++ one: ``"<operation> <subject>: <reason>"``.
"""

from __future__ import annotations

import os

__all__ = [
    "Error",
    "NotFound",
    "FileNotFound",
    "AlreadyExists",
    "DigestMismatch",
    "SizeMismatch",
    "TooLarge",
    "InvalidInput",
    "Unsupported",
    "Unauthorized",
    "Denied",
    "NetworkError",
    "IOFailure",
    "ProtocolError",
]


class Error(Exception):
    """A sealrun operation failed.

    Attributes:
        code: the kind of failure, the C++ ``Errc`` name (``"not_found"``, ...).
        operation: what was being done, e.g. ``"fetch"``.
        subject: what it was done to: a reference, digest or path ("" when none).
        reason: why it failed.
    """

    code: str = ""

    def __init__(self, message: str = "", *, operation: str = "", subject: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.operation = operation
        self.subject = subject
        self.reason = reason or message

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NotFound(Error, LookupError):
    """A reference, digest, attachment, run or path does not exist."""

    code = "not_found"


class FileNotFound(NotFound, FileNotFoundError):
    """A local store, layout directory or archive file does not exist."""


class AlreadyExists(Error, FileExistsError):
    """The destination holds something that must not be replaced (pass overwrite/force)."""

    code = "already_exists"


class DigestMismatch(Error):
    """Content does not hash to the digest it was promised under."""

    code = "digest_mismatch"


class SizeMismatch(Error):
    """Content is shorter or longer than its descriptor says."""

    code = "size_mismatch"


class TooLarge(Error):
    """Content exceeds a size cap (e.g. the 4 MiB manifest limit)."""

    code = "too_large"


class InvalidInput(Error, ValueError):
    """Malformed JSON, digest, media type, reference, archive or argument."""

    code = "invalid_input"


class Unsupported(Error, NotImplementedError):
    """Well-formed but not supported (e.g. no codec for a media type)."""

    code = "unsupported"


class Unauthorized(Error, PermissionError):
    """Credentials are missing or were rejected."""

    code = "unauthorized"


class Denied(Error, PermissionError):
    """The credentials are valid but lack permission, or the target is read-only."""

    code = "denied"


class NetworkError(Error, ConnectionError):
    """A transport failure: connection refused, reset, timed out, TLS."""

    code = "network"


class IOFailure(Error, OSError):
    """A local filesystem failure."""

    code = "io"


class ProtocolError(Error):
    """A peer broke its protocol."""

    code = "protocol"


_BY_CODE = {cls.code: cls for cls in (NotFound, AlreadyExists, DigestMismatch, SizeMismatch, TooLarge, InvalidInput,
                                      Unsupported, Unauthorized, Denied, NetworkError, IOFailure, ProtocolError)}


def _from_native(code: str, operation: str, subject: str, reason: str, message: str) -> Error:
    """Builds the exception for a C++ sealrun::Error (called by the extension module)."""
    cls = _BY_CODE.get(code, Error)
    # Opening a store, layout or archive that is not there: the operation is
    # exactly "open" and the subject the path (a run, blob or tag that is
    # missing is a NotFound of another operation, or names no path).
    if cls is NotFound and operation == "open" and subject and not os.path.lexists(subject):
        cls = FileNotFound
    exc = cls(message, operation=operation, subject=subject, reason=reason)
    if cls is Error:
        exc.code = code
    return exc
