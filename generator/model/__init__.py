"""The configuration model: typed, frozen, validated settings (``config``, ``config_file``), the one
error type a user sees (``errors``), AWS protocol facts (``constants``) and quotas (``limits``).

Nothing here imports troposphere: a configuration can be checked without building a template.
"""
