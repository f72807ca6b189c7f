"""The unverified header and payload reader: nesting bounded before parsing, NaN refused, UTF-8 only.

The depth bound is checked against Python's own parser: for any text `json.loads` accepts,
the scan must report exactly the nesting the parsed value has.
"""

from __future__ import annotations

import base64
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoms_auth.errors import MalformedTokenError
from atoms_auth.jwt_segments import MAX_JSON_DEPTH, decode_unverified, json_depth_exceeds

EXAMPLES = int(os.environ.get("ATOMS_FUZZ_EXAMPLES", "200"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=40,
)


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token(header: str | bytes, payload: str | bytes) -> str:
    return f"{_b64(header)}.{_b64(payload)}.c2ln"


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 0


def _nested(depth: int) -> str:
    return '{"a":' * depth + "0" + "}" * depth


def test_header_and_claims_are_read() -> None:
    header, claims = decode_unverified(
        _token('{"alg":"RS256","kid":"k"}', '{"iss":"https://i.test","exp":1}')
    )

    assert (header, claims) == ({"alg": "RS256", "kid": "k"}, {"iss": "https://i.test", "exp": 1})


def test_nesting_up_to_the_bound_is_read() -> None:
    _, claims = decode_unverified(_token("{}", _nested(MAX_JSON_DEPTH)))

    assert _depth(claims) == MAX_JSON_DEPTH


@pytest.mark.parametrize(
    ("header", "payload", "message"),
    [
        pytest.param(
            "{}", _nested(MAX_JSON_DEPTH + 1), "payload nests JSON deeper than 32", id="one level too deep"
        ),
        pytest.param("[" * 100_000, "{}", "header nests JSON deeper than 32", id="100k unclosed arrays"),
        pytest.param("{}", '{"exp":NaN}', "payload holds NaN or Infinity", id="NaN"),
        pytest.param('{"x":-Infinity}', "{}", "header holds NaN or Infinity", id="-Infinity"),
        pytest.param(
            b'{"kid":"\xed\xa0\x80"}', "{}", "header is not base64url-encoded UTF-8", id="CESU surrogate"
        ),
        pytest.param(
            b'\xef\xbb\xbf{"kid":"k"}', "{}", "header is not base64url-encoded JSON", id="UTF-8 BOM"
        ),
        pytest.param('{"alg":"RS256"}', "[1]", "payload is not a JSON object", id="payload an array"),
    ],
)
def test_hostile_segments_are_malformed(header: str | bytes, payload: str, message: str) -> None:
    with pytest.raises(MalformedTokenError, match=message):
        decode_unverified(_token(header, payload))


def test_brackets_inside_strings_do_not_count() -> None:
    _, claims = decode_unverified(_token("{}", json.dumps({"a": "[{" * 3000, "b": '\\"[[[['})))

    assert claims["a"] == "[{" * 3000


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('"' + "[" * 100, id="a string that never ends"),
        pytest.param('"' + '\\"[' * 2000, id="escaped quotes that never end"),
    ],
)
def test_unterminated_strings_stop_the_scan(text: str) -> None:
    assert not json_depth_exceeds(text, 4)
    with pytest.raises(json.JSONDecodeError, match="Unterminated string"):
        json.loads(text)


@PROPERTY
@given(value=json_values, limit=st.integers(min_value=0, max_value=MAX_JSON_DEPTH))
def test_depth_bound_agrees_with_the_depth_of_any_json_value(value: object, limit: int) -> None:
    assert json_depth_exceeds(json.dumps(value), limit) == (_depth(value) > limit)


@PROPERTY
@given(text=st.text(alphabet='[]{}":,\\ 0a', max_size=200), limit=st.integers(min_value=0, max_value=8))
def test_depth_bound_agrees_with_the_parser_on_any_text_it_accepts(text: str, limit: int) -> None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return
    assert json_depth_exceeds(text, limit) == (_depth(parsed) > limit)
