"""The CloudFormation builders: one module per AWS concern, each with an ``add_*`` entry point that
returns a small frozen handle of what it created. ``stack.build_template`` calls them in the order
of the architecture diagram.
"""
