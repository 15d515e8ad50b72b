"""Test plugin: requires the test plugin that fails on import."""

from __future__ import annotations

requires = ("broken",)
