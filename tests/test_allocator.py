"""chainrule.allocator: glibc told to keep freed memory, only where asked and possible."""
import os
import subprocess
import sys

import pytest

CHILD = r"""
import resource, numpy as np
from chainrule.allocator import keep_freed_memory
print(keep_freed_memory())
a = np.ones((256, 784)); b = np.ones((256, 784))
def step():  # two model-sized temporaries alive at once, then both freed
    return a - 0.01 * b
step()
f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f)
"""


def _run(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_keep_freed_memory_stops_the_page_faults_of_a_repeated_step():
    applied, faults = _run({})
    if not applied:
        pytest.skip("this libc has no mallopt (not glibc)")
    # 50 steps of two 1.6 MB temporaries: glibc's defaults fault them in again and again
    # (hundreds per step); kept memory is reused, so at most a few stray faults remain
    assert faults < 50


def test_a_users_own_malloc_setting_wins():
    applied, _ = _run({"MALLOC_TRIM_THRESHOLD_": "131072"})
    assert not applied
