"""Every JSON error of the public endpoints has one form, `{"error": ..., "detail": ...}`, written by error_reply."""

import json

import pytest

from widget.api.responses import ERROR_METHOD, ERROR_NOT_FOUND, error_reply


def test_an_error_reply_is_json_with_its_detail_only_when_there_is_one():
    bare = error_reply(404, "unknown site key")
    detailed = error_reply(413, "body too large", {"max_bytes": 65536}, headers={"Vary": "Origin"})
    assert (bare.status, bare.headers, json.loads(bare.body)) == (
        404, {"Content-Type": "application/json"}, {"error": "unknown site key"})
    assert detailed.headers == {"Content-Type": "application/json", "Vary": "Origin"}
    assert json.loads(detailed.body) == {"error": "body too large", "detail": {"max_bytes": 65536}}


@pytest.mark.parametrize(("method", "endpoint", "allow"), [
    ("post", "config", "GET, HEAD, OPTIONS"),
    ("delete", "decide", "POST, OPTIONS"),
    ("get", "events", "POST, OPTIONS"),
])
def test_a_method_an_endpoint_does_not_take_is_answered_405_in_json(client, site, method, endpoint, allow):
    response = getattr(client, method)(f"/api/w/{site.public_key}/{endpoint}")
    assert response.status_code == 405
    assert response["Allow"] == allow
    assert response.json() == {"error": ERROR_METHOD}


def test_an_unknown_api_path_is_answered_404_in_the_same_form(client, db):
    response = client.get("/api/w/nothing/here")
    assert response.status_code == 404
    assert response.json() == {"error": ERROR_NOT_FOUND, "detail": "/api/w/nothing/here"}
