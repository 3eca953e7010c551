"""The order the plugin gives the files (tests/support/plugin.py), which `make test` hands to its
workers as it is: files with a long test first, then the integration tier, then the unit tests;
each file whole and in its own order. Run in an inner pytest session (pytester, in-process)."""

from __future__ import annotations

import pytest

FILES = {
    "test_a_unit": "def test_one():\n    pass\n\ndef test_two():\n    pass\n",
    "test_b_mixed": ("import pytest\n\ndef test_unit_first():\n    pass\n\n"
                     "@pytest.mark.integration\ndef test_then_a_server():\n    pass\n"),
    "test_c_long": ("import pytest\n\ndef test_quick():\n    pass\n\n"
                    "@pytest.mark.long\ndef test_minutes():\n    pass\n"),
    "test_d_unit": "def test_three():\n    pass\n",
}


def test_long_files_run_first_then_integration_then_unit_each_file_whole(pytester: pytest.Pytester):
    pytester.makepyfile(**FILES)
    pytester.makeini("[pytest]\nmarkers =\n    integration: a server\n    long: minutes\n")
    result = pytester.runpytest_inprocess("-p", "tests.support.plugin", "-p", "no:cacheprovider",
                                          "--collect-only", "-q")
    collected = [line for line in result.outlines if "::" in line]
    assert collected == [
        "test_c_long.py::test_quick", "test_c_long.py::test_minutes",
        "test_b_mixed.py::test_unit_first", "test_b_mixed.py::test_then_a_server",
        "test_a_unit.py::test_one", "test_a_unit.py::test_two",
        "test_d_unit.py::test_three",
    ]
