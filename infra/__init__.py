"""The Procurement Gateway's AWS infrastructure, as CDK constructs: one module per concern.

`stack.py` composes `data.py` (tables, secrets), `functions.py` (layer, Lambda functions, their
DynamoDB and secret grants), `api.py` (REST API, routes, cXML gateway responses), `email.py`
(SES sender identity, the outbox stream trigger, its dead-letter queue) and `alarms.py`
(CloudWatch alarms, SNS topic) and `dashboard.py` (the dashboard, alarms on every function and
on invoices). Names live in `constants.py`; `compliance.py` holds the cdk-nag plumbing;
`artifacts.py` builds what Lambda runs (layer and asset with bytecode, `make layer`).
"""
