"""Write the parse tables of checkov's JSONPath parser where PLY looks for them, so that checkov
reads them instead of building them on every parse.

checkov's graph checks parse JSONPath expressions with bc_jsonpath_ng, which is built on PLY and
calls ``ply.yacc.yacc(..., write_tables=0)`` for every expression it parses: the LALR tables of
its grammar are computed anew each time, about 48 ms of CPU, and the suite's one checkov scan of
every template parses ~150 expressions (~7 s). PLY reads a table module before it builds one,
and uses it when its grammar signature matches the parser's (``ply.yacc.yacc``: "Read the
tables"); bc_jsonpath_ng only never writes one. This writes that module beside each of its two
parsers, with the call the parser itself makes and ``write_tables`` on. A bc_jsonpath_ng whose
grammar differs does not match the signature, and PLY builds its tables as before.

Run by checkov's own interpreter after checkov is installed (the Makefile does):
``.tools/checkov/bin/python scripts/checkov_parse_tables.py``.
"""

from __future__ import annotations

import os
import sys

import ply.yacc
from bc_jsonpath_ng import parser as base_parser
from bc_jsonpath_ng.ext import parser as extended_parser

# As bc_jsonpath_ng's JsonPathParser.parse_token_stream names it: "<module>_<start symbol>_parsetab",
# which PLY prefixes with the package of the parser's class when it looks for it.
START_SYMBOL = "jsonpath"
TABLE_MODULE = f"parser_{START_SYMBOL}_parsetab"


def write_tables() -> list[str]:
    """Write each parser's table module into its class's package; returns the files written."""
    written = []
    for parser_class in (base_parser.JsonPathParser, extended_parser.ExtentedJsonPathParser):
        package_folder = os.path.dirname(sys.modules[parser_class.__module__].__file__)
        ply.yacc.yacc(module=parser_class(), tabmodule=TABLE_MODULE, outputdir=package_folder, write_tables=True,
                      start=START_SYMBOL, debug=False, errorlog=ply.yacc.NullLogger())
        written.append(os.path.join(package_folder, TABLE_MODULE + ".py"))
    return written


if __name__ == "__main__":
    for path in write_tables():
        print(f"wrote {path}")
