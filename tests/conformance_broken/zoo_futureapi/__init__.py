"""A plugin written for a plugin API that does not exist yet: it must not load."""

ZOO_PLUGIN_API = 99
