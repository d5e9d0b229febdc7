"""Workflows: definitions, task types, triggers, the engine and the worker."""
