"""Lambda: the hourly EventBridge schedule → the unsubscribe sweep (`functions.unsubscribes`):
cancelled subscriptions whose metering window has closed are announced `unsubscribe-success`.
Running it twice, or twice at once, announces nothing twice."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.clock import now
from functions.observability import logger

if TYPE_CHECKING:
    from functions.store.unsubscribes import DynamoUnsubscribes


@cache
def _unsubscribes() -> DynamoUnsubscribes:
    """The adapters, bound once per container (imported on the first run: once an hour)."""
    from functions import store
    from functions.config import settings
    from functions.store.unsubscribes import DynamoUnsubscribes

    store.bind(settings())
    return DynamoUnsubscribes()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from functions.unsubscribes import sweep

    result = sweep(_unsubscribes(), now())
    logger.info(
        "Unsubscribe sweep done",
        extra={"announced": len(result.announced), "skipped": result.skipped},
    )
    return {"announced": list(result.announced), "skipped": result.skipped}
