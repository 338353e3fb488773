"""Session-wide check: no token or secret of the test run appears in any of its log lines.

A pytest plugin (registered in the root conftest). For the whole session:

- every JWT minted in this process (PyJWT's ``encode``) and every value the platform encrypts
  (``installations.crypto.encrypt``: installation tokens, custom-source and flow secrets) is
  remembered, the JWTs also by their signature alone (a token cut apart still leaks);
- every log record, at every level (the root logger is opened to DEBUG; the console handler keeps
  its configured level, so the output is unchanged), is formatted exactly as production writes it
  (the console handler's own filters and formatter: ``addons.logging``) into a spool file, with
  the id of the test that logged it;
- at the end, the spool and every ``*.log`` file under pytest's basetemp (what subprocesses such
  as Celery workers and gunicorn wrote) are searched. One hit fails the run (exit code 1) and the
  summary names the test and the kind of secret, never the secret.

``tests/test_log_leak_check.py`` proves the check can fail.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

import pytest

_WINDOW = 16  # secrets are indexed by 16-character windows ...
_STEP = 8  # ... of which lines are read at every 8th position: a secret of 24+ characters is always seen
MIN_SECRET_LENGTH = _WINDOW + _STEP


class LeakIndex:
    """Finds known secrets (24+ characters) inside text, fast enough for every line of a run."""

    def __init__(self) -> None:
        self._windows: dict[str, set[str]] = {}
        self.labels: dict[str, str] = {}

    def add(self, secret: str, label: str) -> None:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH or secret in self.labels:
            return
        self.labels[secret] = label
        # An occurrence starting anywhere covers, at the next multiple of _STEP, one of its first _STEP windows.
        for offset in range(_STEP):
            self._windows.setdefault(secret[offset:offset + _WINDOW], set()).add(secret)

    def add_jwt(self, token: str) -> None:
        self.add(token, "minted JWT")
        signature = token.rsplit(".", 1)[-1] if token.count(".") == 2 else ""
        self.add(signature, "signature of a minted JWT")

    def find(self, text: str) -> set[str]:
        hits: set[str] = set()
        for i in range(0, max(len(text) - _WINDOW + 1, 0), _STEP):
            candidates = self._windows.get(text[i:i + _WINDOW])
            if candidates:
                hits.update(s for s in candidates if s in text)
        return hits


def production_pipeline() -> tuple[list[logging.Filter], logging.Formatter]:
    """The filters and formatter of the configured console handler (``LOGGING`` in settings)."""
    for handler in logging.getLogger().handlers:
        if handler.name == "console":
            return list(handler.filters), handler.formatter or logging.Formatter()
    from addons.logging import JsonFormatter, RedactingFilter

    return [RedactingFilter()], JsonFormatter()


class FormattedLines(logging.Handler):
    """Writes every record as production would format it, one line each, to ``stream``."""

    def __init__(self, stream: IO[str], *, prefix: Callable[[], str] = lambda: "") -> None:
        super().__init__(logging.NOTSET)
        filters, self.formatter = production_pipeline()
        for log_filter in filters:
            self.addFilter(log_filter)
        self.stream = stream
        self.prefix = prefix
        self.lines = 0
        self.seconds = 0.0  # spent formatting and writing: the check's cost to the run

    def emit(self, record: logging.LogRecord) -> None:
        started = time.perf_counter()
        try:
            line = self.format(record).replace("\n", "\\n")
        except Exception:  # a record that cannot be formatted is not written by production either
            return
        self.stream.write(f"{self.prefix()}\t{line}\n")
        self.lines += 1
        self.seconds += time.perf_counter() - started


class _Checker:
    def __init__(self) -> None:
        self.index = LeakIndex()
        self.spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", prefix="logcheck-")
        self.current_test = "(collection)"
        self.handler: FormattedLines | None = None
        self.basetemp: Path | None = None
        self.leaks: list[tuple[str, str]] = []  # (where, what)
        self.started = time.perf_counter()
        self.search_seconds = 0.0
        self.files = 0
        self._patches = pytest.MonkeyPatch()
        self._restore_levels: list[tuple[logging.Handler | logging.Logger, int]] = []

    # --- what to look for ------------------------------------------------------------------------
    def watch_minting(self) -> None:
        import jwt

        original_encode = jwt.encode
        index = self.index

        def encode(*args, **kwargs):
            token = original_encode(*args, **kwargs)
            index.add_jwt(token)
            return token

        self._patches.setattr(jwt, "encode", encode)
        try:
            from installations import crypto
        except Exception:  # Django is not set up (a bare run): only minted JWTs are watched
            return
        original_encrypt = crypto.encrypt

        def encrypt(value: str) -> str:
            index.add(value, "value encrypted by the platform")
            return original_encrypt(value)

        self._patches.setattr(crypto, "encrypt", encrypt)

    # --- what to search ----------------------------------------------------------------------------
    def start_capture(self) -> None:
        root = logging.getLogger()
        configured = root.getEffectiveLevel()
        for handler in root.handlers:
            if handler.level == logging.NOTSET:  # keep the console as quiet as configured
                self._restore_levels.append((handler, handler.level))
                handler.setLevel(configured)
        self._restore_levels.append((root, root.level))
        root.setLevel(logging.DEBUG)
        self.handler = FormattedLines(self.spool, prefix=lambda: self.current_test)
        root.addHandler(self.handler)

    def stop(self) -> None:
        root = logging.getLogger()
        if self.handler is not None:
            root.removeHandler(self.handler)
        for target, level in reversed(self._restore_levels):
            target.setLevel(level)
        self._patches.undo()

    def _lines(self) -> Iterator[tuple[str, str]]:
        self.spool.flush()
        self.spool.seek(0)
        for raw in self.spool:
            where, _, line = raw.partition("\t")
            yield where, line
        for path in self._subprocess_logs():
            self.files += 1
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        yield f"{path} (written by a subprocess)", line
            except OSError:
                continue

    def _subprocess_logs(self) -> Iterable[Path]:
        if self.basetemp is None or not self.basetemp.exists():
            return []
        return sorted(self.basetemp.rglob("*.log"))

    def search(self) -> None:
        started = time.perf_counter()
        seen: set[tuple[str, str]] = set()
        for where, line in self._lines():
            for secret in self.index.find(line):
                key = (where, self.index.labels[secret])
                if key not in seen:
                    seen.add(key)
                    self.leaks.append(key)
        self.search_seconds = time.perf_counter() - started

    def cost(self) -> str:
        lines = self.handler.lines if self.handler else 0
        emit = self.handler.seconds if self.handler else 0.0
        return (f"{len(self.index.labels)} watched; {lines} lines and {self.files} subprocess log files read; "
                f"{emit:.1f} s formatting + {self.search_seconds:.1f} s searching of a "
                f"{time.perf_counter() - self.started:.0f} s session")


_checker: _Checker | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _checker
    if getattr(config, "workerinput", None) is not None:  # pragma: no cover - no xdist here
        return
    _checker = _Checker()
    _checker.watch_minting()


def pytest_sessionstart(session: pytest.Session) -> None:
    if _checker is not None:
        _checker.start_capture()


@pytest.fixture(scope="session", autouse=True)
def _log_check_basetemp(tmp_path_factory: pytest.TempPathFactory) -> None:
    if _checker is not None:
        _checker.basetemp = tmp_path_factory.getbasetemp()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    if _checker is not None:
        _checker.current_test = item.nodeid
    try:
        return (yield)
    finally:
        if _checker is not None:
            _checker.current_test = "(between tests)"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _checker is None:
        return
    _checker.stop()
    _checker.search()
    if _checker.leaks and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _checker is None:
        return
    if not _checker.leaks:
        terminalreporter.write_line(f"log check: no token or secret of this run in any log line ({_checker.cost()})")
        return
    terminalreporter.section("log check: a token or secret of this run was logged", red=True, bold=True)
    for where, what in _checker.leaks[:50]:
        terminalreporter.write_line(f"{what} in a log line of {where}")
    if len(_checker.leaks) > 50:
        terminalreporter.write_line(f"... and {len(_checker.leaks) - 50} more")
