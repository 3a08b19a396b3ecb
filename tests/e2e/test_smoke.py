"""`make smoke` is CI's last step, after `make test`: run it here too, against `make run`'s
server, so a change that breaks the smoke path (as requiring an account before its
integration once did) fails in `make test` rather than only in CI."""

from __future__ import annotations

from typing import Any

import pytest

from tests import smoke


def test_the_smoke_path_passes_against_the_local_stack(stack: dict[str, Any]) -> None:
    said: list[str] = []
    smoke.run(stack["base"], "e2e-admin", said.append)
    assert said[0] == "health: 200"
    assert any(line.startswith("account ") and line.endswith(" created") for line in said)
    assert "mail: recorded in the local mailbox" in said
    assert said[-1].endswith("disabled")


def test_the_smoke_run_reports_a_failing_step_instead_of_passing(stack: dict[str, Any]) -> None:
    with pytest.raises(smoke.SmokeFailed, match="GET /admin/products: HTTP 403"):
        smoke.run(stack["base"], "not-the-admin-token", lambda _line: None)
