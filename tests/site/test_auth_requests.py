"""Finding the caller of a request: where the token comes from, and the user row kept for the admin."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from dispatcher_site.auth import (
    Caller,
    PlatformTokenAuthentication,
    TokenExpired,
    TokenMalformed,
    caller_from_request,
    caller_of,
)
from jobs.interfaces.oda.errors import oda_error_response
from tests.site.tokenkit import sign

pytestmark = pytest.mark.django_db

factory = RequestFactory()


def test_without_a_token_the_caller_is_public():
    caller = caller_from_request(factory.get("/run_analysis"))
    assert caller == Caller.public()
    assert caller.is_public
    assert caller.sub == "" and caller.roles == frozenset() and caller.token is None


def test_an_empty_token_parameter_means_public():
    assert caller_from_request(factory.get("/run_analysis", {"token": ""})).is_public


def test_token_from_the_query():
    token = sign()
    caller = caller_from_request(factory.get("/run_analysis", {"token": token, "instrument": "empty"}))
    assert caller.sub == "alice@example.org"
    assert caller.token == token


def test_token_from_a_form_post():
    # oda-api switches to a form POST when the request is long.
    request = factory.post("/run_analysis", {"token": sign(), "instrument": "empty"})
    assert caller_from_request(request).sub == "alice@example.org"


def test_token_from_a_bearer_header():
    request = factory.get("/api/instr-list", HTTP_AUTHORIZATION=f"Bearer {sign()}")
    assert caller_from_request(request).sub == "alice@example.org"


def test_a_non_bearer_authorization_header_is_ignored():
    request = factory.get("/api/instr-list", HTTP_AUTHORIZATION="Basic YWxpY2U6c2VjcmV0")
    assert caller_from_request(request).is_public


def test_a_bad_token_is_an_error_not_a_public_caller():
    with pytest.raises(TokenMalformed):
        caller_from_request(factory.get("/run_analysis", {"token": "garbage"}))


def test_the_caller_is_verified_once_per_request(monkeypatch):
    request = factory.get("/run_analysis", {"token": sign()})
    first = caller_from_request(request)
    monkeypatch.setattr("dispatcher_site.auth.caller_from_token", pytest.fail)
    assert caller_from_request(request) is first


def test_the_user_row_is_created_once_and_then_costs_no_query(django_assert_num_queries):
    token = sign()
    caller_from_request(factory.get("/run_analysis", {"token": token}))
    users = get_user_model().objects.filter(username="alice@example.org")
    assert users.count() == 1
    user = users.get()
    assert user.email == "alice@example.org"
    assert user.first_name == "Alice"
    assert not user.has_usable_password()
    assert not user.is_staff
    with django_assert_num_queries(0):
        caller_from_request(factory.get("/run_analysis", {"token": token}))
        caller_from_request(factory.get("/api/instr-list", {"token": sign(roles=["other"])}))
    assert get_user_model().objects.count() == 1


def test_the_user_row_follows_a_changed_name_or_email():
    caller_from_request(factory.get("/", {"token": sign()}))
    caller_from_request(factory.get("/", {"token": sign(name="Alice Liddell", email="alice@wonder.land")}))
    user = get_user_model().objects.get(username="alice@example.org")
    assert (user.first_name, user.email) == ("Alice Liddell", "alice@wonder.land")
    assert get_user_model().objects.count() == 1


def test_public_callers_make_no_user():
    caller_from_request(factory.get("/run_analysis"))
    assert get_user_model().objects.count() == 0


# --- Django REST framework ---


class WhoAmI(APIView):
    authentication_classes = [PlatformTokenAuthentication]
    permission_classes = []

    def get(self, request):
        caller = caller_of(request)
        return Response({"sub": caller.sub, "authenticated": bool(request.user and request.user.is_authenticated)})


api = APIRequestFactory()


def test_drf_authenticates_a_bearer_token():
    response = WhoAmI.as_view()(api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {sign()}"))
    assert response.status_code == 200
    assert response.data == {"sub": "alice@example.org", "authenticated": True}
    assert get_user_model().objects.filter(username="alice@example.org").exists()


def test_drf_without_a_token_is_public():
    response = WhoAmI.as_view()(api.get("/api/v1/me"))
    assert response.data == {"sub": "", "authenticated": False}


def test_drf_refuses_an_expired_token_with_403_and_the_known_text():
    token = sign(exp=1)
    response = WhoAmI.as_view()(api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert response.status_code == 403
    assert str(response.data["detail"]).startswith("The token provided is expired, ")
    assert token not in str(response.data)


def test_drf_refuses_a_malformed_token_with_400():
    response = WhoAmI.as_view()(api.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nonsense"))
    assert response.status_code == 400


def test_an_auth_error_becomes_the_protocol_error_body():
    response = oda_error_response(RequestFactory().get("/run_analysis"), TokenExpired())
    assert response.status_code == 403
    body = json.loads(response.content)
    assert body["error"] == body["error_message"] == TokenExpired().message
    assert body["exit_status"] == {"status": 1, "message": body["error"], "error_message": body["error"]}
    assert body["error_code"] == "token_expired"
