"""What may be stored of a cXML document: no credential survives, whatever its spelling."""

from __future__ import annotations

from functions.cxml.parse import without_credentials

SECRET = "s3cr3t-value-0123456789"


def _document(secret_markup: str, elsewhere: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<cXML payloadID="1@b" timestamp="2026-11-26T12:00:00+00:00"><Header>
<From><Credential domain="DUNS"><Identity>acme</Identity></Credential></From>
<To><Credential domain="NetworkID"><Identity>us</Identity></Credential></To>
<Sender><Credential domain="NetworkID"><Identity>acme</Identity>{secret_markup}</Credential>
<UserAgent>Coupa</UserAgent></Sender></Header>
<Request><OrderRequest><OrderRequestHeader orderID="PO-1" note="{elsewhere}"/>
<Extrinsic name="Note">{elsewhere}</Extrinsic></OrderRequest></Request></cXML>""".encode()


def test_shared_secrets_are_removed_however_they_are_written() -> None:
    half = len(SECRET) // 2
    spellings = [
        f"<SharedSecret>{SECRET}</SharedSecret>",
        f"<SharedSecret><![CDATA[{SECRET[:half]}</SharedSecret>{SECRET[half:]}]]></SharedSecret>",
        f"<SharedSecret>{SECRET[:half]}&#x{ord(SECRET[half]):x};{SECRET[half + 1 :]}</SharedSecret>",
        f"<CredentialMac type='FromSenderCredentials'>{SECRET}</CredentialMac>",
    ]
    for markup in spellings:
        stored = without_credentials(_document(markup), (SECRET,))

        assert SECRET[:half].encode() not in stored and SECRET[half:].encode() not in stored
        assert b">[removed]</" in stored
        assert b'orderID="PO-1"' in stored, "the rest of the document is kept"


def test_a_presented_secret_echoed_elsewhere_is_removed_too() -> None:
    document = _document(f"<SharedSecret>{SECRET}</SharedSecret>", elsewhere=f"pw {SECRET}")

    stored = without_credentials(document, (SECRET,))

    assert SECRET.encode() not in stored
    assert b'note="pw [removed]"' in stored and b">pw [removed]</Extrinsic>" in stored
