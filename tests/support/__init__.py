"""What the tests share: the Slack stand-in that misbehaves on demand (slack), Slack's requests (wire),
a Socket Mode server (socket_mode), reading the text of blocks (text) and waiting on a condition
(waiting). Fixtures live in tests/conftest.py."""
