"""Scheduled work. Jobs are thin: they call services, render with blocks, and post."""
