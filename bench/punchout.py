"""In-process figures for one PunchOutSetupRequest: AWS calls made, and time spent.

The time is reported against a floor measured in the same process against the same moto: the
work no implementation can skip (parse the document with defusedxml, read the integration,
write the session). moto's speed then cancels out of the ratio, which is what makes the figure
comparable between a laptop and CI."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, cast

from defusedxml.ElementTree import fromstring

from bench.counting import ApiCall, ApiCallCounter, service_total
from bench.stack import HOST, PUNCHOUT_PATH, XML_HEADERS, BenchStack
from local.events import LambdaContext, rest_event
from local.routes import match

COUNTED_REQUESTS = 3


@dataclass(frozen=True)
class CallCount:
    first_request: list[ApiCall]
    """The first request the cxml function handles (a cold container): information only."""
    per_request: list[list[ApiCall]]
    """Each counted request after the warm-up."""
    pynamodb_seen: bool
    """Self-check: a pynamodb GetItem made on purpose was counted, attributed to pynamodb."""

    @property
    def dynamodb_calls(self) -> int:
        """The figure: the worst counted request (they should all be equal)."""
        return max(service_total(calls, "dynamodb") for calls in self.per_request)

    @property
    def steady(self) -> bool:
        names = {tuple(sorted(c.name for c in calls)) for calls in self.per_request}
        return len(names) == 1


def count_calls(stack: BenchStack) -> CallCount:
    with ApiCallCounter() as counter:
        stack.post_punchout()  # the warm-up: connections, settings, pynamodb's table metadata
        first = counter.take()
        per_request = []
        for _ in range(COUNTED_REQUESTS):
            stack.post_punchout()
            per_request.append(counter.take())
        return CallCount(first, per_request, _sees_pynamodb(counter, stack))


def _sees_pynamodb(counter: ApiCallCounter, stack: BenchStack) -> bool:
    """Guard against a counter that silently misses pynamodb (say, a future pynamodb going
    through another code path): a known pynamodb read must show up as exactly one call."""
    from functions.store.models import IntegrationRecord

    counter.take()
    IntegrationRecord.get(stack.buyer_pk)
    seen = counter.take()
    return [(c.name, c.origin) for c in seen] == [("dynamodb.GetItem", "pynamodb")]


@dataclass(frozen=True)
class Timing:
    iterations: int
    handler_ms: float
    floor_ms: float
    parse_ms: float
    get_ms: float
    put_ms: float
    handler_aws_ms: float
    """Median time the handler spends inside AWS calls (moto), from a separate pass: tells a
    slow handler's own code from extra or heavier calls."""

    @property
    def ratio(self) -> float:
        return self.handler_ms / self.floor_ms


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_punchout(stack: BenchStack, iterations: int, warmup: int) -> Timing:
    """Handler and floor interleaved, alternating which goes first, so drift, GC and moto's
    growing tables hit both alike. Events are built outside the timed region: API Gateway
    builds them, not the function."""
    from functions.handlers import cxml_api

    route = match("POST", PUNCHOUT_PATH)
    assert route is not None, "no route for the punchout path"
    client = stack.dynamodb
    key = {"pk": {"S": stack.buyer_pk}}
    stack.post_punchout()
    template = _stored_session(stack)

    def event() -> dict[str, Any]:
        return rest_event(
            method="POST",
            path=PUNCHOUT_PATH,
            query="",
            headers=XML_HEADERS,
            body=stack.document,
            resource=route.resource,
            path_parameters=route.path_parameters,
            host=HOST,
        )

    handler_s: list[float] = []
    parse_s: list[float] = []
    get_s: list[float] = []
    put_s: list[float] = []
    floor_s: list[float] = []

    def run_handler(keep: bool) -> None:
        # Duck-typed like Lambda's own context object (what local/stack.py passes too).
        request, context = event(), cast(Any, LambdaContext("cxml_api"))
        started = time.perf_counter()
        result = cxml_api.handler(request, context)
        elapsed = time.perf_counter() - started
        if result["statusCode"] != 200 or "<StartPage>" not in result["body"]:
            raise RuntimeError(f"punchout failed while timing: {result}")
        if keep:
            handler_s.append(elapsed)

    def run_floor(keep: bool, n: int) -> None:
        item = dict(template, pk={"S": f"bench-floor-{n}"})
        t0 = time.perf_counter()
        fromstring(stack.document)
        t1 = time.perf_counter()
        client.get_item(TableName=stack.integrations_table, Key=key)
        t2 = time.perf_counter()
        client.put_item(TableName=stack.sessions_table, Item=item)
        t3 = time.perf_counter()
        if keep:
            parse_s.append(t1 - t0)
            get_s.append(t2 - t1)
            put_s.append(t3 - t2)
            floor_s.append(t3 - t0)

    for n in range(warmup + iterations):
        keep = n >= warmup
        if n % 2:
            run_handler(keep)
            run_floor(keep, n)
        else:
            run_floor(keep, n)
            run_handler(keep)

    return Timing(
        iterations=iterations,
        handler_ms=_ms(handler_s),
        floor_ms=_ms(floor_s),
        parse_ms=_ms(parse_s),
        get_ms=_ms(get_s),
        put_ms=_ms(put_s),
        handler_aws_ms=_aws_time(stack, max(iterations // 5, 20)),
    )


def _stored_session(stack: BenchStack) -> dict[str, Any]:
    """An item exactly as the handler wrote it, so the floor's PutItem carries the same
    attributes and size as the handler's."""
    page = stack.dynamodb.scan(TableName=stack.sessions_table, Limit=1)
    if not page["Items"]:
        raise RuntimeError("the punchout stored no session")
    return dict(page["Items"][0])


def _aws_time(stack: BenchStack, requests: int) -> float:
    with ApiCallCounter() as counter:
        totals = []
        for _ in range(requests):
            stack.post_punchout()
            totals.append(sum(call.seconds for call in counter.take()))
    return _ms(totals)
