"""The ecsapi version: the one place it is written (setup.cfg reads it with ``attr:``)."""

VERSION = "3.0.0"
