"""Rendering: every file ecsapi writes, as text, deterministic to the byte, checked against the
quotas before anything is written. Pure: the CLI does the writing."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

import orjson
from troposphere import Template

from generator.model.config import StackConfig
from generator.model.limits import Usage, check_limits, is_troposphere_quota, quota_error
from generator.template.stack import build_template
from generator.tooling.release import ReleaseSettings

FORMATS = ("json", "yaml")


def render_template(
    config: StackConfig, release: ReleaseSettings, output_format: str = "json"
) -> tuple[str, dict, Usage]:
    """(text, the template as a dict, quota usage); raises ConfigError when a quota would be broken."""
    measure = lambda other: usage_of(other, release)  # noqa: E731 - only called on failure
    try:
        built = build_template(config, release)
    except ValueError as error:
        if not is_troposphere_quota(error):
            raise
        raise quota_error(config, f"the template would go over a CloudFormation quota ({error})", measure) from None
    template = built.to_dict()
    # to_yaml is the first use of cfn_flip, whose import (with PyYAML) only --format yaml pays:
    # see lazy_imports.py.
    text = to_json(template) if output_format == "json" else template_yaml(built)
    usage = Usage.of(template, text)
    check_limits(config, usage, measure)
    return text, template, usage


def usage_of(config: StackConfig, release: ReleaseSettings) -> Usage:
    """The quota usage of ``config``'s JSON template (no quota check: for measuring)."""
    template = build_template(config, release).to_dict()
    return Usage.of(template, to_json(template))


def openapi_file(out: Path, release: ReleaseSettings) -> Path:
    return out / release.openapi_file()


def render_openapi(config: StackConfig, release: ReleaseSettings) -> str:
    from generator.template.openapi import build_openapi  # only the commands that write it pay for the import

    return to_json(build_openapi(config, release))


def render_files(
    out: Path, config: StackConfig, release: ReleaseSettings, output_format: str = "json"
) -> dict[Path, str]:
    """Every file ``template`` writes, rendered in memory: nothing is written if any of it fails."""
    text, _, _ = render_template(config, release, output_format)
    template_name = release.template_file(output_format)
    return {
        out / template_name: text,
        openapi_file(out, release): render_openapi(config, release),
    }


def template_json(template: Template) -> str:
    """The template as JSON text; see :func:`to_json`."""
    return to_json(template.to_dict())


def template_yaml(template: Template) -> str:
    """The template as YAML text, as ``ecsapi template --format yaml`` writes it (cfn_flip's dumper)."""
    return template.to_yaml()


# orjson's C encoder, not json.dumps(indent=2): with an indent the standard library falls back to its
# pure-Python encoder, which took ~45 ms of a cold `ecsapi template` for the two documents (orjson:
# under 1 ms). The bytes are the ones json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
# + "\n" gives for what templates hold (str, int, bool, None, lists, dicts with str keys):
# tests/tooling/test_render_json.py compares the two on every stacks/ variant. Where they differ,
# orjson raises TypeError for a key that is not exactly a str and for an int over 64 bits, writes
# NaN as null, and writes floats under 1e-4 without an exponent; templates carry no floats.
JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def to_json(data: dict) -> str:
    """Sorted keys, two-space indent, trailing newline: the same input gives the same bytes.

    Raises TypeError for a value JSON cannot hold as is (a dict key that is not a str, an object
    without a JSON form)."""
    return orjson.dumps(data, option=JSON_OPTIONS).decode()


# link(2) errors that mean "this file system has no hard links here" (see _keep_previous).
NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS})


def write_atomically(files: dict[Path, str]) -> None:
    """Write the whole set of files or none of them. Callers render everything first.

    Each file is written to a temporary sibling first (a rename within a folder is atomic, so a
    reader never sees half a file). Only when every temporary is complete are they renamed into
    place, one by one; each file being replaced is first kept under a second name (a hard link),
    so if any rename fails, the files already renamed get their previous version back, the
    temporaries are removed, and folders created for the set are removed again. On success the
    kept copies are removed. Raises the OSError that stopped the set, naming the file it was for.
    While the renames run (microseconds), a reader may briefly see new files beside old ones; a
    failure never leaves such a mix behind.
    """
    created: list[Path] = []  # folders this call made, parents first
    staged: list[tuple[Path, Path]] = []  # (file, its complete temporary)
    kept: dict[Path, Path | None] = {}  # file -> its previous version's second name (None: file is new)
    renamed: list[Path] = []
    try:
        _make_folders({path.parent for path in files}, created)
        for path, text in files.items():
            staged.append((path, _write_temporary(path, text)))
        for path, temporary in staged:
            kept[path] = _keep_previous(path, temporary)
            _naming(path, os.replace, temporary, path)
            renamed.append(path)
    except BaseException:
        _roll_back(staged, kept, renamed, created)
        raise
    # The set is in place: a second name that cannot be removed is left over, not a failure.
    for previous in kept.values():
        if previous is not None:
            with contextlib.suppress(OSError):
                previous.unlink(missing_ok=True)


def _naming(path: Path, operation, *arguments, **options):
    """``operation(*arguments, **options)``; an OSError is re-raised naming ``path``, not a temporary."""
    try:
        return operation(*arguments, **options)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from error


def _make_folders(folders: set[Path], created: list[Path]) -> None:
    """Create the missing ``folders`` and parents, appending each one made to ``created``."""
    for folder in sorted(folders):
        missing = []
        for candidate in (folder, *folder.parents):
            if candidate.exists():
                break
            missing.append(candidate)
        for candidate in reversed(missing):
            try:
                candidate.mkdir()
            except FileExistsError:
                if not candidate.is_dir():
                    raise
                continue  # made meanwhile by someone else: not ours to remove
            created.append(candidate)


# How tempfile.mkstemp opens a new file: only if no file or link has the name, never following one.
TEMPORARY_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
TEMPORARY_ATTEMPTS = getattr(os, "TMP_MAX", 10_000)  # tempfile.TMP_MAX: names tried before giving up


def _create_temporary(folder: Path, prefix: str) -> tuple[int, str]:
    """``tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")``: an open descriptor and the name
    of a new file, mode 0600, under a random name that no file had.

    Written out because importing ``tempfile`` imports ``random`` (and its C modules) for the name:
    ~7.5 million instructions, 1.5% of a cold ``ecsapi template`` (callgrind); ``os.urandom`` needs
    no import. Raises FileExistsError when every name tried was taken, as mkstemp does."""
    for _ in range(TEMPORARY_ATTEMPTS):
        name = str(folder / f"{prefix}{os.urandom(6).hex()}.tmp")
        try:
            return os.open(name, TEMPORARY_FLAGS, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no usable temporary file name found", str(folder))


def _write_temporary(path: Path, text: str) -> Path:
    """``text`` in a new temporary file beside ``path``, readable by all like a normal output file."""
    handle, name = _naming(path, _create_temporary, path.parent, f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        _naming(path, os.chmod, temporary, 0o644)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _keep_previous(path: Path, temporary: Path) -> Path | None:
    """A second name for ``path``'s current file, beside it; None when there is no file to keep
    (missing, or a folder, which the rename then refuses). The temporary's unique stem makes the
    name unique; a hard link costs no copy, and where links are not supported a copy is kept."""
    if not os.path.lexists(path) or (path.is_dir() and not path.is_symlink()):
        return None
    previous = temporary.with_suffix(".previous")
    try:
        os.link(path, previous, follow_symlinks=False)
    except OSError as error:
        if error.errno not in NO_HARD_LINKS:
            raise OSError(error.errno, error.strerror, str(path)) from error
        # Imported here, the one place that copies: importing shutil imports zlib, bz2 and lzma,
        # ~6 million instructions (1.2%) of a cold ``ecsapi template`` that has hard links (callgrind).
        import shutil

        _naming(path, shutil.copy2, path, previous, follow_symlinks=False)
    return previous


def _roll_back(
    staged: list[tuple[Path, Path]], kept: dict[Path, Path | None], renamed: list[Path], created: list[Path]
) -> None:
    """Undo a partial :func:`write_atomically`, as far as the file system allows. A previous
    version that cannot be put back keeps its second name rather than being deleted."""
    # Each step on its own: one that fails must not stop the others or hide the original error.
    for path in reversed(renamed):
        previous = kept[path]
        with contextlib.suppress(OSError):
            if previous is None:
                path.unlink()
            else:
                os.replace(previous, path)
    for path, previous in kept.items():
        if path not in renamed and previous is not None:
            with contextlib.suppress(OSError):
                previous.unlink(missing_ok=True)
    for _, temporary in staged:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()
