"""The console's sign-in through Cognito's user-pool API (InitiateAuth with USER_PASSWORD_AUTH,
RespondToAuthChallenge, REFRESH_TOKEN_AUTH, RevokeToken): public app-client calls, no IAM
permission and no client secret (docs/CONSOLE.md). Every Cognito refusal becomes a
`SignInRefused` with words for the page; Cognito's own throttling and lockout pass through as
a 429 page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.errors import Transient
from functions.observability import logger
from functions.store.timeouts import client_config

WRONG_CREDENTIALS = "The email address or password is not correct."


@dataclass(frozen=True)
class Tokens:
    id_token: str
    refresh_token: str | None


@dataclass(frozen=True)
class Challenge:
    """Cognito wants more before it issues tokens: NEW_PASSWORD_REQUIRED (an invited user's
    first sign-in) or SOFTWARE_TOKEN_MFA (a code from the authenticator app). `session` is
    Cognito's opaque, 3-minute challenge session, carried in the next form."""

    name: str
    session: str
    username: str


class SignInRefused(Exception):
    def __init__(self, message: str, status: int = 400, restart: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.restart = restart
        """The challenge session is gone: back to the username and password form."""


SUPPORTED_CHALLENGES = ("NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA")


def _refusal(error: Any) -> SignInRefused:
    code = error.response.get("Error", {}).get("Code", "")
    message = str(error.response.get("Error", {}).get("Message", ""))
    if code in (
        "TooManyRequestsException",
        "LimitExceededException",
        "TooManyFailedAttemptsException",
    ):
        return SignInRefused("Too many attempts. Wait a few minutes, then try again.", 429)
    if code == "NotAuthorizedException" and "attempts exceeded" in message.lower():
        return SignInRefused("Too many attempts. Wait a few minutes, then try again.", 429)
    if code == "NotAuthorizedException" and "session" in message.lower():
        return SignInRefused("That took too long. Please sign in again.", 400, restart=True)
    if code in ("NotAuthorizedException", "UserNotFoundException"):
        return SignInRefused(WRONG_CREDENTIALS, 400)  # never say which of the two was wrong
    if code == "PasswordResetRequiredException":
        return SignInRefused("Your password must be reset: ask your account's admin.", 400)
    if code == "UserNotConfirmedException":
        return SignInRefused("Your invitation has not been accepted yet.", 400)
    if code in ("InvalidPasswordException", "InvalidParameterException"):
        return SignInRefused(f"The new password is not accepted: {message}", 400)
    if code in ("CodeMismatchException", "ExpiredCodeException"):
        return SignInRefused("The code is not correct. Enter the current code from your app.", 400)
    if code == "ResourceNotFoundException":
        return SignInRefused("That took too long. Please sign in again.", 400, restart=True)
    raise Transient("Sign-in is not available right now. Please try again.") from error


class CognitoSignIn:
    """One app client of one user pool."""

    def __init__(self, client_id: str, region: str, client: Any = None) -> None:
        self._client_id = client_id
        self._region = region
        self._client = client

    def _cognito(self) -> Any:
        if self._client is None:
            import boto3  # only the console's sign-in requests pay for this client, once

            self._client = boto3.client(
                "cognito-idp", region_name=self._region, config=client_config()
            )
        return self._client

    def _call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer: dict[str, Any] = getattr(self._cognito(), operation)(**arguments)
        except ClientError as error:
            raise _refusal(error) from error
        except BotoCoreError as error:
            raise Transient("Sign-in is not available right now. Please try again.") from error
        return answer

    def _outcome(self, answer: dict[str, Any], username: str) -> Tokens | Challenge:
        result = answer.get("AuthenticationResult")
        if result:
            return Tokens(result["IdToken"], result.get("RefreshToken"))
        name = answer.get("ChallengeName", "")
        if name not in SUPPORTED_CHALLENGES:
            logger.warning("unsupported sign-in challenge", extra={"challenge": name})
            raise SignInRefused("This sign-in step is not supported here. Ask your admin.", 400)
        parameters = answer.get("ChallengeParameters") or {}
        user = parameters.get("USER_ID_FOR_SRP") or parameters.get("USERNAME") or username
        return Challenge(name, answer.get("Session", ""), user)

    def password(self, username: str, password: str) -> Tokens | Challenge:
        answer = self._call(
            "initiate_auth",
            ClientId=self._client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return self._outcome(answer, username)

    def respond(
        self, challenge: str, username: str, session: str, answer: str
    ) -> Tokens | Challenge:
        """NEW_PASSWORD_REQUIRED with the new password, SOFTWARE_TOKEN_MFA with the code."""
        field = {
            "NEW_PASSWORD_REQUIRED": "NEW_PASSWORD",
            "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
        }
        if challenge not in field:
            raise SignInRefused("Please sign in again.", 400, restart=True)
        result = self._call(
            "respond_to_auth_challenge",
            ClientId=self._client_id,
            ChallengeName=challenge,
            Session=session,
            ChallengeResponses={"USERNAME": username, field[challenge]: answer},
        )
        return self._outcome(result, username)

    def renew(self, refresh_token: str) -> str:
        """A fresh ID token for a refresh token (SignInRefused when it is no longer valid)."""
        answer = self._call(
            "initiate_auth",
            ClientId=self._client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        result = answer.get("AuthenticationResult") or {}
        if not result.get("IdToken"):
            raise SignInRefused("Please sign in again.", 401, restart=True)
        return str(result["IdToken"])

    def revoke(self, refresh_token: str) -> None:
        """Sign-out: the refresh token (and the tokens it issued) stop working. Best effort:
        the cookies are cleared whatever Cognito answers."""
        try:
            self._cognito().revoke_token(Token=refresh_token, ClientId=self._client_id)
        except Exception as error:  # a failed revocation must not block sign-out
            logger.warning("refresh token not revoked", extra={"reason": type(error).__name__})
