"""Procurement Gateway: the Lambda code, one package, one asset."""
