"""pytest plugin (``bench run`` loads it): a stop stays a stop even where a library swallowed it.

``bench run`` stops its pytest with SIGINT, which Python raises as KeyboardInterrupt wherever the main
thread happens to be.  Where that is a garbage-collector callback (JAX registers one) or a finalizer,
Python reports the exception as unraisable and carries on: the run went on to its end, or, side by side
in ``bench regress``, waited at the next test for a run that had already stopped, until ``bench run``
killed it with nothing written.  Here every SIGINT is also recorded, and until pytest has taken one, the
end of collection and the start of every test raise it again: the tests that finished are written as
after any other stop.
"""

from __future__ import annotations

import signal

import pytest

#: holds something from a SIGINT until pytest has taken the stop
_PENDING: list[bool] = []


def _record_and_raise(_signum, _frame):
    _PENDING.append(True)
    raise KeyboardInterrupt


def _stop_if_swallowed() -> None:
    if _PENDING:
        raise KeyboardInterrupt


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before the suite's conftest imports the frameworks (where a swallowed interrupt is likeliest)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not one a caller chose
        signal.signal(signal.SIGINT, _record_and_raise)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_finish(session):
    """Before any other plugin's end of collection (``bench_duet`` waits there for the other run)."""
    _stop_if_swallowed()
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    _stop_if_swallowed()
    return (yield)


def pytest_keyboard_interrupt(excinfo):
    """pytest has the stop: it writes what finished; nothing raises it again."""
    _PENDING.clear()
