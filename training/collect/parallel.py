"""Worker processes for the CPU-bound steps of the collection chain: face detection (training.collect.assign_faces)
and face crops (training.collect.build_dataset).

One process per core with one torch thread each detects ~1.6x faster than one process with a torch thread per
core on these small images (MTCNN on a 400 px copy; measured on 2 cores, see benchmarks/collect.py). A Pool
rather than datasets.map(num_proc): its results stream back in order while the work goes on, so the manifest
still grows post by post, and its workers leave when their parent dies, even by SIGKILL (datasets.map's
workers and their manager process outlive a killed step). Workers are started with "spawn": a clean
interpreter whatever the caller has run before (forking a process whose torch threads have run is fragile).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from typing import Callable


def _exit_with_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:  # re-parented: the step that started us is gone
            os._exit(1)


def _start_worker(parent: int, initializer: Callable | None, initargs: tuple) -> None:
    import torch

    torch.set_num_threads(1)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def process_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()):
    """A multiprocessing Pool of `workers` spawned processes, one torch thread each; `initializer(*initargs)`
    runs once in each. Use it as a context manager (leaving it terminates the workers)."""
    return mp.get_context("spawn").Pool(workers, initializer=_start_worker,
                                        initargs=(os.getpid(), initializer, initargs))


def default_workers() -> int:
    """The cores this process may run on (the default number of worker processes)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
