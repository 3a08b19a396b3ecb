"""The Lambda entry points, one module per function. Importing this package first defers
Powertools' event_handler package `__init__` (functions/handlers/lean_imports.py): a cold start
imports the resolver the handlers use, not every resolver Powertools has."""

from functions.handlers import lean_imports

lean_imports.install()
