"""`epos try`: the whole bot in a terminal, without a Slack workspace.

`session` runs the real App in-process against the mock Slack on a scratch database, `workspace`
rebuilds what each person would see from the Web API calls the App makes, `render` shows Block Kit
as text, `forms` fills modals field by field, `script` runs `--script` files and `terminal` is the
interactive prompt.
"""
