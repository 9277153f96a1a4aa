"""One module per export format; each registers itself with :func:`builder.export_registry.register_format`.

The registry imports every module here, so a new format is one new file (plus its test).
"""
