"""EmulatorKeyStore: persistence, the publish-before-sign rotation schedule, retirement."""

from __future__ import annotations

import json
import stat

import pytest

from atoms_devtools.authkit_emulator import EmulatorKeyStore, KeyFileError

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def published_kids(store, now):
    return [key["kid"] for key in store.published_jwks(now)["keys"]]


def test_first_use_creates_a_key_file_only_the_owner_can_read(key_file):
    EmulatorKeyStore(path=key_file)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(json.loads(key_file.read_text())["keys"]) == 1


def test_restart_keeps_the_same_signing_key(key_file):
    first = EmulatorKeyStore(path=key_file).signing_key()

    restarted = EmulatorKeyStore(path=key_file).signing_key()

    assert restarted.kid == first.kid
    assert restarted.public_jwk() == first.public_jwk()


def test_rotation_publishes_the_new_kid_before_it_signs(key_file, clock):
    store = EmulatorKeyStore(path=key_file, clock=clock)
    old_kid = store.signing_key().kid

    rotation = store.rotate(publish_lead_s=15, grace_s=300)

    assert rotation.active_from == clock.now + 15
    assert published_kids(store, clock.now) == [old_kid, rotation.kid]
    assert store.signing_key(clock.now + 14.9).kid == old_kid


def test_new_key_signs_once_its_publish_lead_has_passed(key_file, clock):
    store = EmulatorKeyStore(path=key_file, clock=clock)
    rotation = store.rotate(publish_lead_s=15, grace_s=300)

    clock.advance(15)

    assert store.signing_key().kid == rotation.kid


def test_rotation_reports_the_previous_kid_and_when_it_retires(key_file, clock):
    store = EmulatorKeyStore(path=key_file, clock=clock)
    old_kid = store.signing_key().kid

    rotation = store.rotate(publish_lead_s=15, grace_s=300)

    assert rotation.previous_kid == old_kid
    assert rotation.previous_retire_at == clock.now + 315


def test_previous_key_stays_published_through_the_grace_period(key_file, clock):
    store = EmulatorKeyStore(path=key_file, clock=clock)
    rotation = store.rotate(publish_lead_s=15, grace_s=300)

    assert rotation.previous_kid in published_kids(store, clock.now + 314)


def test_retired_key_is_dropped_after_the_grace_period(key_file, clock):
    store = EmulatorKeyStore(path=key_file, clock=clock)
    rotation = store.rotate(publish_lead_s=15, grace_s=300)

    assert published_kids(store, clock.now + 315) == [rotation.kid]


def test_retired_key_is_pruned_from_the_file_on_the_next_write(key_file, clock):
    store = EmulatorKeyStore(path=key_file, clock=clock)
    first = store.rotate(publish_lead_s=15, grace_s=300)
    clock.advance(400)

    store.rotate(publish_lead_s=15, grace_s=300)

    stored_kids = [record["kid"] for record in json.loads(key_file.read_text())["keys"]]
    assert first.previous_kid not in stored_kids
    assert first.kid in stored_kids


def test_rotating_twice_quickly_retires_the_key_that_never_signed(key_file, clock):
    store = EmulatorKeyStore(path=key_file, clock=clock)
    skipped = store.rotate(publish_lead_s=15, grace_s=300)
    clock.advance(1)
    latest = store.rotate(publish_lead_s=15, grace_s=300)

    assert published_kids(store, clock.now + 316) == [latest.kid]
    assert skipped.kid not in published_kids(store, clock.now + 316)


def test_rotation_by_another_store_on_the_same_file_is_seen_without_restart(key_file):
    server_side = EmulatorKeyStore(path=key_file)
    server_side.published_jwks()

    rotation = EmulatorKeyStore(path=key_file).rotate(publish_lead_s=0, grace_s=300)

    assert rotation.kid in published_kids(server_side, server_side.now())
    assert server_side.signing_key().kid == rotation.kid


def test_jwks_never_contains_private_key_material(store):
    store.rotate(publish_lead_s=15, grace_s=300)

    for key in store.published_jwks()["keys"]:
        assert set(key) == {"kty", "kid", "use", "alg", "n", "e"}
        assert not PRIVATE_JWK_MEMBERS & set(key)


def test_published_keys_are_rs256_signing_keys(store):
    (key,) = store.published_jwks()["keys"]

    assert (key["kty"], key["use"], key["alg"], key["e"]) == ("RSA", "sig", "RS256", "AQAB")


def test_writes_leave_no_temporary_files_behind(key_file, store):
    store.rotate(publish_lead_s=15, grace_s=300)

    assert sorted(path.name for path in key_file.parent.iterdir()) == ["keys.json", "keys.json.lock"]


def test_malformed_key_file_is_reported_with_its_path(key_file):
    key_file.parent.mkdir(parents=True)
    key_file.write_text("{not json")

    with pytest.raises(KeyFileError, match=str(key_file)):
        EmulatorKeyStore(path=key_file)


def test_broken_key_file_does_not_take_down_a_running_store(key_file, store):
    kid = store.signing_key().kid

    key_file.write_text('{"version": 1, "keys": []}')

    assert store.signing_key().kid == kid


@pytest.mark.parametrize(
    ("publish_lead_s", "grace_s"),
    [(-1, 300), (15, -1), (float("nan"), 300), (15, float("inf"))],
    ids=["negative lead", "negative grace", "nan lead", "infinite grace"],
)
def test_rotation_refuses_unusable_durations(store, publish_lead_s, grace_s):
    with pytest.raises(ValueError, match="finite number of seconds"):
        store.rotate(publish_lead_s=publish_lead_s, grace_s=grace_s)
