"""The emulator: the generated stack on 127.0.0.1 for people without an AWS account (``make local``,
``python -m ecsapi_local``): dynalite, moto's Cognito, one gunicorn per task, the local API gateway
and the test page, all read from the rendered template.

A package of its own, beside the library: the local gateway imports nothing of ``generator``; the
page server imports only ``generator.model.page`` (standard library: the page's files and headers,
which the template's CloudFront policy uses too); :mod:`ecsapi_local.run`, which renders the
configuration, imports the generator.
"""
