"""Server-wide settings the app applies at start (facebmi/webguard.py)."""
import platform

import pytest

from facebmi.webguard import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are a glibc setting")
def test_malloc_arenas_can_be_capped_on_glibc():
    # mallopt answers 1 when glibc accepts the setting; the load benchmark shows its effect on memory.
    assert limit_malloc_arenas(2) is True
