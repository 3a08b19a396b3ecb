"""The cXML protocol, pure: parse untrusted documents (defusedxml, only in `parse`), build ours
(only in `build`), and the one status-code table (`status`)."""
