"""What a buyer commits to by requesting an offer, said before they press the button: when it
starts and ends, whether it renews, when what is invoiced, over what period the usage estimate
runs, and what a free trial turns into. Each sentence states what the code does today
(docs/INVOICING.md): a contract is invoiced once, in full, when the purchase order is accepted,
or in instalments as its billing schedule says (`functions.schedules`); usage on the 1st of
each month for the month before; nothing renews or converts on its own.

Plain Python: the subscribe page and the product page read these values."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from functions import schedules
from functions.catalog import Offer, Pricing
from functions.formatting import day, money, periods
from functions.money import to_cents
from functions.subscriptions import term_end


class Commitments(NamedTuple):
    starts: str
    ends: str
    renewal: str
    invoicing: str
    estimate_period: str  # "" when the offer has no usage to estimate
    after_trial: str  # "" unless a free trial


def invoicing(pricing: Pricing, currency: str) -> str:
    """When what is invoiced, exactly as the billing code does it today."""
    if pricing.model == "free_trial":
        return "Never invoiced: the trial is free."
    if pricing.is_zero_priced:
        return "Never invoiced: there is no charge."
    sentences = []
    scheduled = (
        schedules.sentence(pricing.schedule, pricing.price, pricing.period, pricing.term, currency)
        if pricing.has_contract and pricing.price is not None and pricing.period
        else ""
    )
    if scheduled:
        sentences.append(scheduled)
    elif pricing.has_contract and pricing.price is not None and pricing.period:
        total = money(to_cents(pricing.price * pricing.term), currency)
        whole = f"The whole contract, {total} for {periods(pricing.term, pricing.period)}"
        not_per = f" (not each {pricing.period})" if pricing.term > 1 else ""
        sentences.append(
            f"{whole}, is invoiced once, in full{not_per}, when your company's purchase order "
            "is accepted."
        )
    if pricing.has_usage:
        sentences.append(
            "Usage is invoiced on the 1st of each month for what was used in the month before "
            "(UTC)."
        )
    return " ".join(sentences)


def commitments(offer: Offer, today: datetime, *, preapproved: bool = False) -> Commitments:
    """The offer's commitments, with dates as they would be if it started `today`."""
    pricing = offer.pricing
    starts = (
        f"Right away: your company pre-approves this offer ({day(today)})."
        if preapproved
        else "When your company's purchase order arrives (" + day(today) + " if it is today)."
    )
    ends = "When your company cancels the purchase order."
    renewal = "Nothing to renew: it runs until it is cancelled."
    after_trial = ""
    if pricing.has_contract and pricing.period:
        end = term_end(today, pricing.term, pricing.period)
        ends = (
            f"{periods(pricing.term, pricing.period)} after it starts ({day(end)} if it starts "
            f"{day(today)})."
        )
        renewal = "No automatic renewal: to continue after the term, request it again."
    if pricing.model == "free_trial":
        end = today + timedelta(days=pricing.trial_days)
        ends = (
            f"The trial ends {pricing.trial_days} days after it starts ({day(end)} if it starts "
            f"{day(today)})."
        )
        then = pricing.then.summary(offer.currency) if pricing.then else ""
        after_trial = "After the trial nothing converts or is invoiced on its own" + (
            f": continuing at {then} is a new request your company approves." if then else "."
        )
        renewal = "No automatic conversion or renewal."
    return Commitments(
        starts=starts,
        ends=ends,
        renewal=renewal,
        invoicing=invoicing(pricing, offer.currency),
        estimate_period=estimate_period(pricing),
        after_trial=after_trial,
    )


def estimate_period(pricing: Pricing) -> str:
    """Over what period the usage estimate runs: it is the budget the PO line approves, used
    up over the subscription's whole life (not per month)."""
    if not pricing.has_usage:
        return ""
    if pricing.has_contract and pricing.period:
        return f"for the whole term ({periods(pricing.term, pricing.period)}), not per month."
    return "in total, not per month: the budget lasts until it is used up or raised."
