"""`make run`'s server, started as a process and spoken to over real HTTP."""

from __future__ import annotations

from typing import Any

import requests

from tests.support import punchout_setup, read_cxml


def test_banner_prints_purchase_information_for_both_demo_integrations(
    stack: dict[str, Any],
) -> None:
    banner = stack["banner"]
    assert banner["admin_token"] == "e2e-admin"
    assert banner["ariba_shared_secret"] == "e2e-ariba"
    systems = {i["system"]: i["purchase_information"] for i in banner["integrations"]}
    assert set(systems) == {"coupa", "ariba"}
    assert systems["coupa"]["punchout_url"] == f"{stack['base']}/cxml/punchout"
    assert systems["coupa"]["shared_secret"]


def test_coupa_punchout_over_http_then_the_start_page(stack: dict[str, Any]) -> None:
    coupa = next(i for i in stack["banner"]["integrations"] if i["system"] == "coupa")
    info = coupa["purchase_information"]
    document = punchout_setup(
        from_credentials=[(info["buyer_domain"], info["buyer_identity"])],
        secret=info["shared_secret"],
    )

    reply = requests.post(
        info["punchout_url"],
        data=document.encode(),
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )

    answer = read_cxml(reply.status_code, reply.content, reply.headers.get("Content-Type"))
    assert answer.code == 200, answer.message
    start = answer.find("Response/PunchOutSetupResponse/StartPage/URL")
    assert start.startswith(f"{stack['base']}/s/")
    page = requests.get(start, timeout=10)
    assert page.status_code == 200
    assert "as Jim Halpert" in page.text
    assert "Demo Coupa (Initech)" in page.text


def test_ariba_punchout_over_http(stack: dict[str, Any]) -> None:
    ariba = next(i for i in stack["banner"]["integrations"] if i["system"] == "ariba")
    info = ariba["purchase_information"]
    document = punchout_setup(
        from_credentials=[("DUNS", "999"), (info["buyer_domain"], info["buyer_identity"])],
        secret=stack["banner"]["ariba_shared_secret"],
        sender="sysadmin@ariba.com",
    )
    reply = requests.post(info["punchout_url"], data=document.encode(), timeout=10)
    assert (
        read_cxml(reply.status_code, reply.content, reply.headers.get("Content-Type")).code == 200
    )


def test_admin_api_over_http_needs_the_token(stack: dict[str, Any]) -> None:
    url = f"{stack['base']}/admin/integrations"
    assert requests.get(url, timeout=10).status_code == 401
    listed = requests.get(url, headers={"Authorization": "Bearer e2e-admin"}, timeout=10)
    assert listed.status_code == 200
    assert len(listed.json()["integrations"]) == 2


def test_garbage_over_http_is_a_cxml_406(stack: dict[str, Any]) -> None:
    reply = requests.post(f"{stack['base']}/cxml/punchout", data=b"\x00garbage", timeout=10)
    answer = read_cxml(reply.status_code, reply.content, reply.headers.get("Content-Type"))
    assert answer.code == 406


def test_mailbox_page_is_served(stack: dict[str, Any]) -> None:
    page = requests.get(f"{stack['base']}/_local/mailbox", timeout=10)
    assert page.status_code == 200
    assert "Local mailbox" in page.text
