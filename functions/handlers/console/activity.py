"""The console's activity of an integration (admins): its last cXML exchanges, newest first,
so an admin sees why Coupa or Ariba reports an error (docs/CONSOLE.md "Activity")."""

from __future__ import annotations

from urllib.parse import quote

from aws_lambda_powertools.event_handler.api_gateway import Response, Router

from functions.handlers.console.kit import (
    INTEGRATIONS,
    SIGN_IN,
    console_page,
    redirect,
    signed_in,
    url,
)

router = Router()

SECTION = "integrations"


@router.get(f"{INTEGRATIONS}/<integration_id>/activity")
def integration_activity(integration_id: str) -> Response:
    """Admins only (members 403). The integration is read by its id and must be the signed-in
    account's: another account's, or an unknown id, is the same 404 page."""
    from functions.activity import SHOWN
    from functions.handlers.web.pages import stores
    from functions.store.activity import recent

    user, cookies = signed_in()
    if user is None:
        return redirect(url(SIGN_IN), cookies)
    if not user.is_admin:
        return console_page(
            user, "error.html", 403, cookies, section=SECTION,
            heading="Admins only",
            message="The activity of a procurement integration is shown to your account's admins.",
            advice="Ask one of them if you need to know why an exchange failed.",
        )  # fmt: skip
    stores()  # binds the tables (the console's composition root is the web function's)
    from functions.store.integrations import DynamoIntegrationStore

    integration = DynamoIntegrationStore().get(integration_id)
    if integration is None or integration.account_id != user.account_id:
        return console_page(
            user, "error.html", 404, cookies, section=SECTION,
            heading="No such integration",
            message="Your account has no procurement integration with this id.",
            advice="Open it from Procurement integrations.",
        )  # fmt: skip
    return console_page(
        user,
        "console_activity.html",
        200,
        cookies,
        section=SECTION,
        integration=integration,
        entries=recent(integration.id),
        shown=SHOWN,
        integration_url=url(f"{INTEGRATIONS}/{quote(integration.id, safe='')}"),
    )
