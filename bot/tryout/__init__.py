"""`epos try`: the whole bot in a terminal, without a Slack workspace.

- `session`: the real App in-process against the mock Slack, on a scratch database, driven by typed lines
- `personas`: the people and channels of the sample workspace
- `preload`: the sample data, loaded through each domain's own import service
- `payloads`: the requests Slack would send for what a person does
- `workspace`: what each person would see, rebuilt from the Web API calls the App makes
- `render`: Block Kit as readable text, with numbered buttons
- `forms`: modals filled field by field
- `timeline`: where the controlled clock stops while `:wait` lets time pass
- `script`: `--script` files; `terminal`: the interactive prompt
"""
