"""Imperative operations on a running cluster: validate, rolling-update, upgrade."""
