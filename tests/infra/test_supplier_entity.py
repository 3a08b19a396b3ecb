"""The legal entity invoices name (issue 13 part 3) reaches the functions from CDK context,
as the supplier identity does; without context nothing is set (invoices then name no
from/remitTo partner)."""

from __future__ import annotations

from infra import constants
from tests.infra.support import SUPPLIER_ENTITY_CONTEXT, Synthesized


def test_supplier_entity_context_sets_the_billing_workers_environment(
    stack: Synthesized, variant: Synthesized
) -> None:
    wanted = {
        env: SUPPLIER_ENTITY_CONTEXT[key]
        for key, env in constants.SUPPLIER_ENTITY_SETTINGS
        if key in SUPPLIER_ENTITY_CONTEXT
    }
    billing = variant.resources[variant.function_id(constants.BILLING_HANDLER)]
    default = stack.resources[stack.function_id(constants.BILLING_HANDLER)]

    environment = billing["Properties"]["Environment"]["Variables"]
    assert {name: environment.get(name) for name in wanted} == wanted
    assert not {env for _, env in constants.SUPPLIER_ENTITY_SETTINGS} & set(
        default["Properties"]["Environment"]["Variables"]
    )
