"""The benchmark scripts' own logic, where it can be checked without PyTorch: the schedule
PyTorch's side writes out again, and the lines the time-to-accuracy driver reads."""
import os
import sys

import pytest

from helpers import ROOT
from xpnet.schedules import Schedule

sys.path.insert(0, os.path.join(ROOT, "bench"))
import time_to_accuracy  # noqa: E402
import torch_recipe  # noqa: E402


@pytest.mark.parametrize("kind, warmup", [("one_cycle", 0), ("one_cycle", 7), ("cosine", 5),
                                          ("cosine", 0), ("constant", 4)])
def test_torch_recipes_schedule_is_xpnets(kind, warmup):
    schedule = Schedule(kind, 60, warmup)
    for step in range(60):
        assert torch_recipe.schedule_factor(kind, step, 60, warmup) == pytest.approx(
            schedule(step), abs=1e-15), step


def test_the_driver_reads_both_sides_epoch_lines():
    xpnet_line = ("epoch 1/2: mean loss 1.8660, accuracy train (2,000 of 5,000 sampled) "
                  "0.7120, test (2,000 of 10,000 sampled) 0.7185, 7,971 img/s")
    torch_line = "epoch 3/6: mean loss 0.4021, test 0.8805"
    assert time_to_accuracy.EPOCH_LINE.match(xpnet_line).groups() == ("1", "0.7185")
    assert time_to_accuracy.EPOCH_LINE.match(torch_line).groups() == ("3", "0.8805")
    final = "test accuracy 0.9213 on all 10,000 test images | 91.2 s training | cpu"
    assert time_to_accuracy.FINAL_LINE.search(final).group(1) == "0.9213"
