"""Everything around the template: the command line (``entry``, ``cli``), rendering and atomic
writes (``render``), ``describe``, the release's fixed files (``assets``) and its publisher."""
