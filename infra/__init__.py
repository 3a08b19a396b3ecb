"""The Procurement Gateway's AWS infrastructure, as CDK constructs: one module per concern.

`stack.py` composes `data.py` (tables, secret), `functions.py` (layer, Lambda functions, grants)
and `api.py` (REST API, routes, cXML gateway responses). Names live in `constants.py`;
`compliance.py` holds the cdk-nag plumbing.
"""
