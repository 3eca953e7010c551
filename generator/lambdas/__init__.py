"""Code that runs inside AWS Lambda as CloudFormation custom resources.

Each function is ordinary Python in a module of its own here, tested like any other module, and
rendered into the template's inline ``ZipFile`` by :func:`generator.functions.inline_code`: the
shared CloudFormation protocol (:mod:`custom_resource`) followed by the resource's own module.
Lambda's Python runtime provides boto3; nothing else outside the standard library may be imported.
"""
