"""The ``cellwright`` command line. Thin: parse arguments, call the engine, print."""
