"""The ecsapi version: the one place it is written (setup.cfg reads it with ``attr:``)."""

VERSION = "1.0.0"
