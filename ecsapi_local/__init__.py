"""The local emulator: the generated stack on 127.0.0.1 for people without an AWS account
(``make local``, ``python -m ecsapi_local``): dynalite, moto's Cognito, one gunicorn per task, the
local API gateway and the test page, all read from the rendered template.

A package of its own, beside the library: the gateway and the page server import nothing of
``generator``; only :mod:`ecsapi_local.run`, which renders the configuration, does.
"""
