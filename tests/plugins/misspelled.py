"""Test plugin with a misspelled hook name: start-up must fail."""

from hub import hookimpl


@hookimpl
def register_rouets(hub):
    return []
