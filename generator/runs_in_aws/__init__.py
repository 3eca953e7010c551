"""Code that runs inside AWS, never in the process that renders a template.

- The custom resources' Lambda handlers: each is ordinary Python in a module of its own here, tested
  like any other module, and rendered into the template's inline ``ZipFile`` by
  :func:`generator.template.functions.inline_code`: the shared CloudFormation protocol
  (:mod:`custom_resource`) followed by the resource's own module. Lambda's Python runtime provides
  boto3; nothing else outside the standard library may be imported.
- ``build.sh``: the image build's commands, run by CodeBuild (:mod:`generator.template.image`).
"""
