"""Test plugin: requires a plugin that no package declares."""

from __future__ import annotations

requires = ("no_such_plugin",)
