"""What the sign-in page says for each of Cognito's refusals: throttling and lockout are a 429
to wait out, an unknown user reads as a wrong password, an outage is a retryable 503, never a
trace."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from functions.errors import Transient
from functions.store.cognito import WRONG_CREDENTIALS, CognitoSignIn, SignInRefused


class _Refusing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def initiate_auth(self, **_: Any) -> Any:
        raise self.error


def _client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "InitiateAuth")


@pytest.mark.parametrize(
    ("code", "message", "status", "says"),
    [
        ("NotAuthorizedException", "Incorrect username or password.", 400, WRONG_CREDENTIALS),
        ("UserNotFoundException", "User does not exist.", 400, WRONG_CREDENTIALS),
        ("NotAuthorizedException", "Password attempts exceeded", 429, "Too many attempts"),
        ("TooManyRequestsException", "Rate exceeded", 429, "Too many attempts"),
        ("LimitExceededException", "", 429, "Too many attempts"),
        ("PasswordResetRequiredException", "", 400, "must be reset"),
        ("InvalidPasswordException", "Password not long enough", 400, "not accepted"),
        ("CodeMismatchException", "", 400, "code is not correct"),
    ],
)
def test_cognito_refusals_become_words_for_the_page(code, message, status, says):
    sign_in = CognitoSignIn("client", "us-east-1", client=_Refusing(_client_error(code, message)))
    with pytest.raises(SignInRefused) as refused:
        sign_in.password("someone@initech.example", "whatever")
    assert refused.value.status == status
    assert says in refused.value.message


@pytest.mark.parametrize(
    "error",
    [_client_error("InternalErrorException"), EndpointConnectionError(endpoint_url="x")],
)
def test_an_outage_is_a_retryable_error_not_a_refusal(error):
    sign_in = CognitoSignIn("client", "us-east-1", client=_Refusing(error))
    with pytest.raises(Transient):
        sign_in.password("someone@initech.example", "whatever")
