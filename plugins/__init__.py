"""Built-in plugins. Each is registered through the ``flcollector`` entry-point group, like a third-party one."""
