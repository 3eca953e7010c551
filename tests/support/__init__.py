"""What the test suites share, in one place: servers on loopback (dynalite, moto, any subprocess
with its log), the failure report that shows their logs, the AWS test environment, and the guard
that keeps the unit tier free of servers and subprocesses.

Loaded as a pytest plugin (``-p tests.support.plugin`` in setup.cfg's addopts), so no conftest has
to import another conftest as a module.
"""
