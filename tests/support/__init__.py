"""Test helpers other test modules share: servers that stand in for Slack's side of a connection."""
