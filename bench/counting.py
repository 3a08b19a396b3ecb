"""Counting AWS API calls at the one place every botocore client goes through.

boto3 clients and pynamodb's own botocore client both end in `BaseClient._make_api_call`, so
patching it there sees every call whatever library made it; moto answers further down (an event
hook at request time), so the patch counts calls exactly as they would reach AWS."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any

from botocore.client import BaseClient

PYNAMODB = "pynamodb"
BOTOCORE = "boto3/botocore"


@dataclass(frozen=True)
class ApiCall:
    service: str
    operation: str
    origin: str
    """Which library issued it: a call from pynamodb proves the patch sees pynamodb's client."""
    seconds: float

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"


def _origin(frame: FrameType | None) -> str:
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).startswith(PYNAMODB + "."):
            return PYNAMODB
        frame = frame.f_back
    return BOTOCORE


@dataclass
class ApiCallCounter:
    """Context manager recording every AWS API call made while it is active.

    Kept off the timed loops: the stack walk and the wrapper would add to what is measured."""

    calls: list[ApiCall] = field(default_factory=list)
    _original: Callable[..., Any] | None = None

    def __enter__(self) -> ApiCallCounter:
        original = BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            origin = _origin(sys._getframe(1))
            started = time.perf_counter()
            try:
                return original(client, operation_name, api_params)
            finally:
                counter.calls.append(
                    ApiCall(
                        client.meta.service_model.service_name,
                        operation_name,
                        origin,
                        time.perf_counter() - started,
                    )
                )

        self._original = original
        BaseClient._make_api_call = counted
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        BaseClient._make_api_call = self._original
        self._original = None

    def take(self) -> list[ApiCall]:
        """The calls recorded since the last `take`, and start afresh."""
        taken, self.calls = self.calls, []
        return taken


def by_operation(calls: list[ApiCall]) -> Counter[tuple[str, str]]:
    """(service.operation, origin) → number of calls."""
    return Counter((call.name, call.origin) for call in calls)


def service_total(calls: list[ApiCall], service: str) -> int:
    return sum(1 for call in calls if call.service == service)
