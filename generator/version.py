"""The ecsapi version: the one place it is written (setup.cfg reads it with ``attr:``)."""

VERSION = "4.1.0"
