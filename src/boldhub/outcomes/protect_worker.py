"""A worker process for :func:`boldhub.outcomes.tidy.protect_tables`: reads a pickled
``(tables, threshold)`` from standard input, protects each table, and writes the pickled
results to standard output.

Run as ``python -m boldhub.outcomes.protect_worker`` by the parent, never by hand. A
fresh interpreter rather than a multiprocessing pool: a pool must either fork (unsafe from
the threads of the hub's web server) or re-import the caller's main script (which breaks
any script without a ``__main__`` guard).
"""

from __future__ import annotations

import pickle
import sys

from boldhub.outcomes.disclosure import protect


def main() -> None:
    # The pickle comes from the parent process over a pipe it opened, never from a user.
    tables, threshold = pickle.load(sys.stdin.buffer)  # noqa: S301
    done = [protect(t, threshold=threshold) for t in tables]
    pickle.dump(done, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
