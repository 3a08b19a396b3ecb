"""`python -m bench`: measure, print a table with targets, end with one JSON line.

Exit status: 0 whatever the verdicts (a benchmark reports, it does not gate); 1 only when a
figure could not be measured at all (the punchout failed, an import crashed), because then the
output is not a benchmark result."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import coldstart
from bench.counting import by_operation, service_total
from bench.report import Figure, json_line, table

CALLS_TARGET = 2
IMPORT_RATIO_TARGET = 1.5
TIME_RATIO_TARGET = 2.0
BILLING_SIZES = (1_000, 10_000)
BILLING_RATIO_TARGET = 1.5  # linear: time per subscription does not grow with the run
BILLING_WRITES_TARGET = 3  # docs/INVOICING.md "Budgets"
FIGURES = (
    Figure("dynamodb_calls", "DynamoDB calls per PunchOutSetupRequest", CALLS_TARGET, None, 0),
    *(
        Figure(
            f"import_ratio.{module.rsplit('.', 1)[-1]}",
            f"import {module} / import boto3 (as on Lambda)",
            IMPORT_RATIO_TARGET,
            None,
        )
        for module in coldstart.HANDLERS
    ),
    Figure("time_ratio", "PunchOutSetupRequest time / floor", TIME_RATIO_TARGET, None),
    Figure("request_approval_calls", "DynamoDB calls per Request approval", 2, None, 0),
    Figure("session_search_calls", "DynamoDB calls per catalog search (session)", 2, None, 0),
    Figure("public_search_calls", "DynamoDB calls per catalog search (public)", 1, None, 0),
    Figure("order_calls", "DynamoDB calls per new OrderRequest (2 lines)", 4, None, 0),
    Figure("order_time_ratio", "2-line OrderRequest time / PunchOutSetupRequest time", None, None),
    Figure("order_own_ratio", "  same, excluding time inside AWS calls (moto)", None, None),
    Figure("large_order_calls", "DynamoDB calls per 900 KB OrderRequest", 4, None, 0),
    Figure("large_order_s3_puts", "  S3 puts for it (its original, reported apart)", None, None, 0),
    Figure("resolve_customer_calls", "DynamoDB calls per ResolveCustomer", 1, None, 0),
    Figure("entitlements_calls", "DynamoDB calls per GetEntitlements first page", 1, None, 0),
    Figure("entitlements_next_calls", "  same, a page reached with NextToken", 1, None, 0),
    *(
        Figure(f"billing_ms.{size}", f"Billing run ms per subscription ({size:,})", None, None)
        for size in BILLING_SIZES
    ),
    Figure(
        "billing_time_ratio",
        f"Billing time per subscription, {BILLING_SIZES[-1]:,} / {BILLING_SIZES[0]:,}",
        BILLING_RATIO_TARGET,
        None,
    ),
    Figure("billing_own_ratio", "  same, excluding time inside AWS calls (moto)", None, None),
    Figure(
        "billing_write_calls",
        "AWS writes per invoice (S3 puts + DynamoDB writes)",
        BILLING_WRITES_TARGET,
        None,
    ),
    Figure(
        "billing_read_calls", "  DynamoDB reads per invoice (batched, amortized)", None, None, 3
    ),
    Figure("billing_sqs_calls", "  SQS sends per invoice (batched, amortized)", None, None, 3),
)
"""Every figure, in report order: one a section could not measure still shows, as such."""


def _relabelled(figures: tuple[Figure, ...], sizes: tuple[int, ...]) -> list[Figure]:
    """The billing figures named for the sizes asked (`--billing-sizes`), not the defaults."""
    if sizes == BILLING_SIZES:
        return list(figures)
    kept = [f for f in figures if not f.key.startswith("billing_ms.")]
    at = next(n for n, f in enumerate(kept) if f.key == "billing_time_ratio")
    per_size = [
        Figure(f"billing_ms.{size}", f"Billing run ms per subscription ({size:,})", None, None)
        for size in sizes
    ]
    ratio = replace(kept[at], label=f"Billing time per subscription, {sizes[-1]:,} / {sizes[0]:,}")
    return [*kept[:at], *per_size, ratio, *kept[at + 1 :]]


def _section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def _guarded(run: Callable[[], None]) -> None:
    """One section failing must not hide the others' figures."""
    try:
        run()
    except Exception:
        sys.stdout.flush()
        traceback.print_exc()


def cold_start(
    runs: int, layer: Path, asset: Path, values: dict[str, float], details: dict[str, Any]
) -> None:
    _section(
        f"Cold-start import time (fresh interpreter each, median of {runs}): as on Lambda "
        "(built asset + layer, their bytecode read-only, -S) and, for comparison, from the "
        "checkout with warm .pyc"
    )
    lambda_like = coldstart.measure_like_lambda(runs, layer=layer, asset=asset)
    result = coldstart.measure(runs)
    print(
        f"  {'module':<34} {'Lambda ms':>9} {'min':>7} {'max':>7} {'x boto3':>8} {'CPU x':>6}"
        f"   {'checkout ms':>11} {'x boto3':>8}"
    )
    for module, samples in lambda_like.samples_ms.items():
        print(
            f"  {module:<34} {statistics.median(samples):>9.1f} {min(samples):>7.1f}"
            f" {max(samples):>7.1f} {lambda_like.ratio(module):>8.2f}"
            f" {lambda_like.cpu_ratio(module):>6.2f}"
            f"   {result.medians_ms[module]:>11.1f} {result.ratio(module):>8.2f}"
        )
    print(
        "  (x boto3: wall-time ratio, the figure with a target; CPU x: the same imports' CPU-time"
        " ratio, steadier when other work shares the cores)"
    )
    for module in coldstart.HANDLERS:
        error = result.importable_unconfigured[module]
        if error is not None:
            print(f"  ! {module} does not import without configuration: {error}")
    if not any(result.importable_unconfigured.values()):
        print("  (every handler also imports with no environment configured)")
    for module in coldstart.HANDLERS:
        print(
            f"  costliest imports of {module} (-X importtime, one run; "
            f"functions.* own code {result.project_self_ms[module]:.1f} ms):"
        )
        print(f"    {'package':<24} {'self ms':>8} {'cumul. ms':>9}  first imported by")
        for cost in result.costs[module][:5]:
            print(
                f"    {cost.package:<24} {cost.self_ms:>8.1f} {cost.cumulative_ms:>9.1f}"
                f"  {cost.imported_by}"
            )
        unique = ", ".join(f"{c.package} {c.cumulative_ms:.1f} ms" for c in result.only_in(module))
        if unique:
            print(f"    imported by this handler only: {unique}")
        values[f"import_ratio.{module.rsplit('.', 1)[-1]}"] = lambda_like.ratio(module)
    details["import_ms"] = {m: round(v, 2) for m, v in lambda_like.medians_ms.items()}
    details["import_cpu_ratio"] = {
        m: round(lambda_like.cpu_ratio(m), 3)
        for m in lambda_like.samples_ms
        if m != coldstart.BASELINE
    }
    details["import_ms_checkout"] = {m: round(v, 2) for m, v in result.medians_ms.items()}
    details["import_ratio_checkout"] = {
        m: round(result.ratio(m), 3) for m in result.medians_ms if m != coldstart.BASELINE
    }
    details["import_unconfigured_errors"] = {
        m: e for m, e in result.importable_unconfigured.items() if e
    }


def in_process(
    iterations: int, warmup: int, values: dict[str, float], details: dict[str, Any]
) -> None:
    from bench.punchout import count_calls, time_punchout
    from bench.stack import moto_stack

    with moto_stack() as stack:
        _section("AWS API calls per PunchOutSetupRequest (moto; counted after one warm-up)")
        counted = count_calls(stack)
        calls = by_operation(counted.per_request[0])
        for (name, origin), n in sorted(calls.items()):
            print(f"  {name:<30} {n:>3}  via {origin}")
        first = by_operation(counted.first_request)
        print(
            "  first request of a fresh container (information): "
            + ", ".join(f"{name} x{n}" for (name, _), n in sorted(first.items()))
        )
        if not counted.steady:
            print("  ! the counted requests did not all make the same calls")
        seen = "yes" if counted.pynamodb_seen else "NO: the count is not trustworthy"
        print(f"  counter sees pynamodb's calls (self-check): {seen}")
        details["aws_calls"] = {f"{name} ({origin})": n for (name, origin), n in calls.items()}
        details["dynamodb_calls_first_request"] = service_total(counted.first_request, "dynamodb")
        if counted.pynamodb_seen:
            values["dynamodb_calls"] = counted.dynamodb_calls

        _section(f"In-process PunchOutSetupRequest time (median of {iterations}, same moto)")
        timing = time_punchout(stack, iterations, warmup)
        rows = (
            ("handler (API Gateway event in, response out)", timing.handler_ms),
            ("  of which inside AWS calls (separate pass)", timing.handler_aws_ms),
            ("floor (parse + GetItem + PutItem)", timing.floor_ms),
            ("  defusedxml fromstring", timing.parse_ms),
            ("  GetItem (boto3 client)", timing.get_ms),
            ("  PutItem (boto3 client)", timing.put_ms),
        )
        for label, ms in rows:
            print(f"  {label:<46} {ms:8.3f} ms")
        print(f"  {'ratio handler / floor':<46} {timing.ratio:8.2f}")
        details["punchout_ms"] = {
            "handler": round(timing.handler_ms, 4),
            "handler_in_aws_calls": round(timing.handler_aws_ms, 4),
            "floor": round(timing.floor_ms, 4),
            "iterations": timing.iterations,
        }
        values["time_ratio"] = timing.ratio

        _section("AWS API calls on the storefront (demo catalog, counted after a warm-up)")
        from bench.storefront import count_storefront_calls

        storefront = count_storefront_calls(stack)
        for name, operations in storefront.summary().items():
            listed = ", ".join(f"{op} x{n}" for op, n in sorted(operations.items()))
            print(f"  {name:<20} {listed}")
            values[f"{name}_calls"] = storefront.dynamodb(name)
        details["storefront_calls"] = storefront.summary()

        _section(f"New 2-line OrderRequest (median of {iterations // 3}, same moto)")
        from bench.orders import measure_orders

        order = measure_orders(stack, max(iterations // 3, 30), max(warmup // 3, 5))
        listed = ", ".join(f"{c.name} ({c.origin})" for c in order.calls)
        print(f"  AWS calls: {listed}")
        print(f"  {'OrderRequest handler':<46} {order.order_ms:8.3f} ms")
        print(f"  {'PunchOutSetupRequest handler (same run)':<46} {order.punchout_ms:8.3f} ms")
        print(f"  {'ratio':<46} {order.ratio:8.2f}")
        print(f"  {'OrderRequest handler outside AWS calls':<46} {order.order_own_ms:8.3f} ms")
        own = order.punchout_own_ms
        print(f"  {'PunchOutSetupRequest handler outside AWS calls':<46} {own:8.3f} ms")
        values["order_calls"] = order.dynamodb_calls
        values["order_time_ratio"] = order.ratio
        values["order_own_ratio"] = order.own_ratio
        details["order_ms"] = {
            "order": round(order.order_ms, 4),
            "punchout": round(order.punchout_ms, 4),
            "iterations": order.iterations,
        }

        from bench.orders import measure_large_order

        large = measure_large_order(stack)
        listed = ", ".join(f"{c.name} ({c.origin})" for c in large.calls)
        print(f"  A {large.document_bytes:,}-byte OrderRequest, AWS calls: {listed}")
        values["large_order_calls"] = large.dynamodb_calls
        values["large_order_s3_puts"] = large.s3_puts

        _section("Seller APIs: AWS calls (counted after a warm-up, on the orders above)")
        seller_apis(stack, values)


def seller_apis(stack: Any, values: dict[str, float]) -> None:
    from bench.seller_api import count_seller_api_calls

    counted = count_seller_api_calls(stack)
    for label, key, calls in (
        ("ResolveCustomer", "resolve_customer_calls", counted.resolve),
        ("GetEntitlements, first page", "entitlements_calls", counted.first_page),
        ("GetEntitlements, NextToken page", "entitlements_next_calls", counted.next_page),
    ):
        listed = ", ".join(f"{c.name} ({c.origin})" for c in calls) or "none"
        print(f"  {label:<34} {listed}")
        values[key] = counted.dynamodb(calls)


def billing(sizes: tuple[int, ...], values: dict[str, float], details: dict[str, Any]) -> None:
    from bench.billing import EVENT_SOURCE_MAPPING, READS, WRITES, measure_billing
    from bench.moto_transactions import item_snapshots
    from bench.stack import moto_stack

    _section(
        "Billing run, in-process (start, then the local queue pump feeding the billing worker "
        "until idle; moto, a fresh one, its TransactWriteItems rolling back per item rather than "
        "copying whole tables: bench/moto_transactions.py)"
    )
    with moto_stack() as stack, item_snapshots():
        runs = measure_billing(stack, sizes)
    print(f"  {'subscriptions':>13} {'invoices':>9} {'seconds':>8} {'ms/sub':>7} {'own ms/sub':>10}"
          f" {'seeding s':>9}")  # fmt: skip
    for run in runs:
        own = run.seconds_outside_aws * 1000 / run.size
        print(f"  {run.size:>13,} {run.invoices:>9,} {run.seconds:>8.1f} "
              f"{run.ms_per_subscription:>7.2f} {own:>10.3f} {run.seed_seconds:>9.1f}")  # fmt: skip
        values[f"billing_ms.{run.size}"] = run.ms_per_subscription
    largest, smallest = runs[-1], runs[0]
    print(f"  AWS calls per invoice at {largest.size:,} (the pump's own calls are the event source"
          " mapping's: not counted):")  # fmt: skip
    for name, count in sorted(largest.by_operation().items()):
        spent = largest.seconds_by_operation()[name]
        mapping = name.split(".", 1)[1] in EVENT_SOURCE_MAPPING
        note = "  (event source mapping)" if mapping else ""
        print(f"    {name:<26} {count / largest.invoices:>7.3f}  {spent:>6.1f} s in moto{note}")
    values["billing_time_ratio"] = largest.ms_per_subscription / smallest.ms_per_subscription
    values["billing_own_ratio"] = (largest.seconds_outside_aws / largest.size) / (
        smallest.seconds_outside_aws / smallest.size
    )
    values["billing_write_calls"] = largest.per_invoice(WRITES)
    values["billing_read_calls"] = largest.per_invoice(READS)
    values["billing_sqs_calls"] = largest.per_invoice(service="sqs")
    details["billing"] = {
        str(run.size): {
            "seconds": round(run.seconds, 2),
            "seconds_outside_aws": round(run.seconds_outside_aws, 2),
            "calls": dict(run.by_operation()),
        }
        for run in runs
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--iterations", type=int, default=300, help="timed punchouts")
    parser.add_argument("--warmup", type=int, default=30, help="untimed punchouts first")
    parser.add_argument("--import-runs", type=int, default=9, help="fresh interpreters each")
    parser.add_argument(
        "--layer",
        type=Path,
        default=Path("build/bench/layer"),
        help="a dependency layer built for this machine's architecture (make bench builds it)",
    )
    parser.add_argument(
        "--asset", type=Path, default=Path("build/asset"), help="the built function asset"
    )
    parser.add_argument(
        "--billing-sizes",
        default=",".join(str(n) for n in BILLING_SIZES),
        help="subscriptions per billing run, smallest first (the ratio is last / first)",
    )
    args = parser.parse_args(argv)
    sizes = tuple(int(n) for n in args.billing_sizes.split(","))

    started = time.perf_counter()
    print(
        f"Procurement Gateway benchmarks: PunchOutSetupRequest "
        f"(Python {platform.python_version()}, {os.cpu_count()} CPUs, {sys.executable})"
    )
    values: dict[str, float] = {}
    details: dict[str, Any] = {}
    # Subprocesses first, while this process is still small and idle.
    _guarded(lambda: cold_start(args.import_runs, args.layer, args.asset, values, details))
    _guarded(lambda: in_process(args.iterations, args.warmup, values, details))
    _guarded(lambda: billing(sizes, values, details))
    figures = [replace(f, value=values.get(f.key)) for f in _relabelled(FIGURES, sizes)]
    _section(f"Summary ({time.perf_counter() - started:.0f} s)")
    print(table(figures))
    print(json_line(figures, details))
    return 1 if any(f.value is None for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
