"""EmulatorKeyStore: the emulator's RS256 keys, kept in one JSON file that survives restarts.

The file is shared between a running emulator and the `atoms dev` commands (see
`state_file`: atomic replacement, a writers' lock, mode 0600); readers re-read it when it
changes, so a server sees a `atoms dev rotate` done by another process on its next request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from atoms_devtools.authkit_emulator.emulator_defaults import DEFAULT_GRACE_S, DEFAULT_PUBLISH_LEAD_S
from atoms_devtools.authkit_emulator.signing_key import KeyRecordError, SigningKey, generate_signing_key
from atoms_devtools.authkit_emulator.state_file import (
    FileIdentity,
    StateFileError,
    exclusive_lock,
    file_identity,
    replace_atomically,
)

logger = logging.getLogger(__name__)

DEFAULT_KEYS_FILE = Path("var/authkit/keys.json")
_FILE_FORMAT_VERSION = 1


class KeyFileError(Exception):
    """The key file cannot be read, parsed or written (the message names the file and why)."""


class NoSigningKeyError(Exception):
    """No stored key may sign at the requested time."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did; times are epoch seconds."""

    kid: str
    active_from: float
    previous_kid: str | None
    previous_retire_at: float | None


class EmulatorKeyStore:
    """RS256 signing keys persisted in a JSON file, with publish-before-sign rotation."""

    def __init__(
        self,
        *,
        path: Path = DEFAULT_KEYS_FILE,
        clock: Callable[[], float] = time.time,
        create: bool = True,
    ) -> None:
        """Load the keys from `path`, or create the file with one new key if it does not exist.

        Args:
            path: the key file; relative paths are resolved against the current directory.
                Missing parent directories are created (mode 0700).
            clock: current time in epoch seconds; tests inject a fake one.
            create: whether a missing file is created. Commands that only use the keys
                (`atoms dev token`, `atoms dev rotate`) pass False: keys nobody serves are
                keys nobody trusts.

        Raises:
            KeyFileError: the file exists but is unreadable or malformed, cannot be created,
                or is missing and `create` is False.
        """
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: tuple[SigningKey, ...] = ()
        self._identity: FileIdentity | None = None
        if not create and self._stat() is None:
            # Checked before taking the lock: the lock file alone would create the directory.
            raise KeyFileError(
                f"no key file at {path}: start the emulator (`atoms dev authkit`), which creates it, "
                "or pass --keys-file with the file the emulator uses"
            )
        with self._lock, self._exclusive_file_lock():
            if self._stat() is None:
                now = clock()
                self._write((generate_signing_key(now=now, active_from=now),), now=now)
                logger.info("created emulator key file %s", path)
            else:
                self._load(strict=True)

    @property
    def path(self) -> Path:
        """The key file."""
        return self._path

    def now(self) -> float:
        """Return the current time by the store's clock, epoch seconds."""
        return self._clock()

    def signing_key(self, now: float | None = None) -> SigningKey:
        """Return the newest key that may sign at `now` (default: the clock's time).

        Raises:
            NoSigningKeyError: every stored key starts signing later or is retired.
        """
        with self._lock:
            self._reload_if_changed()
            return _newest_active(self._keys, self._now(now))

    def published_jwks(self, now: float | None = None) -> dict[str, list[dict[str, str]]]:
        """Return the JWKS document: the public JWK of every key not retired at `now`.

        Keys that only start signing in the future are included on purpose: a verifier must be
        able to fetch a kid before the first token signed with it arrives.
        """
        with self._lock:
            self._reload_if_changed()
            at = self._now(now)
            return {"keys": [key.public_jwk() for key in self._keys if key.is_published(at)]}

    def rotate(
        self,
        *,
        publish_lead_s: float = DEFAULT_PUBLISH_LEAD_S,
        grace_s: float = DEFAULT_GRACE_S,
        now: float | None = None,
    ) -> Rotation:
        """Add a key that signs `publish_lead_s` from now and schedule the older keys' retirement.

        Every older key leaves the JWKS at `now + publish_lead_s + grace_s` (or earlier if it was
        already scheduled to). Keys past their retirement are dropped from the file.

        Args:
            publish_lead_s: seconds the new key is published before it signs.
            grace_s: seconds the old keys stay published after the new key starts signing.
            now: the rotation time, epoch seconds (default: the clock's time).

        Returns:
            The new kid and when it signs, and the previous signing kid and when it is retired.

        Raises:
            ValueError: a duration is negative or not finite.
            KeyFileError: the key file cannot be read or written.
        """
        _check_duration("publish_lead_s", publish_lead_s)
        _check_duration("grace_s", grace_s)
        with self._lock, self._exclusive_file_lock():
            self._reload_if_changed()
            at = self._now(now)
            previous = _newest_active_or_none(self._keys, at)
            new_key = generate_signing_key(now=at, active_from=at + publish_lead_s)
            retire_at = at + publish_lead_s + grace_s
            self._write((*(key.retired_by(retire_at) for key in self._keys), new_key), now=at)
        logger.info("rotated emulator keys: %s signs from %.0f", new_key.kid, new_key.active_from)
        return Rotation(
            kid=new_key.kid,
            active_from=new_key.active_from,
            previous_kid=None if previous is None else previous.kid,
            previous_retire_at=None if previous is None else previous.retired_by(retire_at).retire_at,
        )

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    def _stat(self) -> os.stat_result | None:
        try:
            return self._path.stat()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise KeyFileError(f"cannot read key file {self._path}: {err.strerror}") from err

    def _reload_if_changed(self) -> None:
        stat = self._stat()
        # A deleted file keeps the keys in memory; the next write recreates it.
        if stat is not None and file_identity(stat) != self._identity:
            self._load(strict=False)

    def _load(self, *, strict: bool) -> None:
        """Read the file; on error raise if `strict`, else keep the last good keys."""
        try:
            stat, keys = self._read()
        except KeyFileError as err:
            if strict:
                raise
            logger.warning("keeping the previous emulator keys: %s", err)
            return
        if stat.st_mode & 0o077:
            logger.warning("key file %s is readable by other users; it holds private keys", self._path)
        self._keys, self._identity = keys, file_identity(stat)
        logger.debug("loaded %d emulator keys from %s", len(keys), self._path)

    def _read(self) -> tuple[os.stat_result, tuple[SigningKey, ...]]:
        # stat before reading: if the file is replaced in between, the older identity makes
        # the next call read it again instead of missing the change.
        try:
            stat = self._path.stat()
            data = self._path.read_bytes()
        except OSError as err:
            raise KeyFileError(f"cannot read key file {self._path}: {err.strerror or err}") from err
        return stat, _parse_key_file(data, self._path)

    def _write(self, keys: tuple[SigningKey, ...], *, now: float) -> None:
        kept = tuple(sorted((key for key in keys if key.is_published(now)), key=_schedule_order))
        document = {"version": _FILE_FORMAT_VERSION, "keys": [key.to_record() for key in kept]}
        data = json.dumps(document, indent=2).encode("utf-8")
        try:
            replace_atomically(self._path, data)
            stat = self._path.stat()
        except OSError as err:
            raise KeyFileError(f"cannot write key file {self._path}: {err}") from err
        self._keys, self._identity = kept, file_identity(stat)

    @contextlib.contextmanager
    def _exclusive_file_lock(self) -> Iterator[None]:
        try:
            with exclusive_lock(self._path):
                yield
        except StateFileError as err:
            raise KeyFileError(str(err)) from err


def _parse_key_file(data: bytes, path: Path) -> tuple[SigningKey, ...]:
    try:
        document = json.loads(data)
    except ValueError as err:
        raise KeyFileError(f"key file {path} is not valid JSON: {err}") from err
    if not isinstance(document, dict) or document.get("version") != _FILE_FORMAT_VERSION:
        raise KeyFileError(f"key file {path} is not a version {_FILE_FORMAT_VERSION} emulator key file")
    records = document.get("keys")
    if not isinstance(records, list) or not records:
        raise KeyFileError(f"key file {path} holds no keys")
    try:
        keys = tuple(SigningKey.from_record(record) for record in records)
    except KeyRecordError as err:
        raise KeyFileError(f"key file {path}: {err}") from err
    return tuple(sorted(keys, key=_schedule_order))


def _newest_active(keys: tuple[SigningKey, ...], now: float) -> SigningKey:
    key = _newest_active_or_none(keys, now)
    if key is None:
        raise NoSigningKeyError(f"no emulator key may sign at {now:.0f}")
    return key


def _newest_active_or_none(keys: tuple[SigningKey, ...], now: float) -> SigningKey | None:
    return max((key for key in keys if key.is_active(now)), key=_schedule_order, default=None)


def _schedule_order(key: SigningKey) -> tuple[float, float]:
    return (key.active_from, key.created_at)


def _check_duration(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
