"""Pure Block Kit builders: DTOs in, `slack_sdk.models` blocks out. No I/O here.

`kit` holds the pieces every builder shares; each other module builds the messages of one surface.
`speedup.install()` makes slack_sdk's rendering cheaper; the entry points call it.
"""
