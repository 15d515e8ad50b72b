"""Built-in plugins. Each is a package reached by the core only through ``hub.hookspecs``."""
