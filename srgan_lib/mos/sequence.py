"""The order in which one rater sees a study: calibration anchors first, then every item.

The order is a pure function of the public ``study.json`` (its ``seed`` and sorted item ids) and
the rater id, so a page, a notebook rater and a page written again later all agree.  It needs no
secret: the item ids are random (:mod:`srgan_lib.mos.blind`), so any permutation of them is
unrelated to the methods behind them.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from srgan_lib.mos.files import ANCHORS, check_rater_id


def seeded_rng(*parts) -> np.random.Generator:
    """A generator seeded by the SHA-256 of ``parts`` (stable across numpy versions' seeding)."""
    digest = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def rater_sequence(public: dict, rater_id: str) -> tuple[list[tuple[str, int]], list[str]]:
    """``(calibration [(item id, anchor score)], study item ids in rating order)`` for one rater.

    Calibration (paper Sec. 3.4): every calibration image is shown as its NN version (score 1)
    and then its HR version (score 5), the images in an order of the rater's own.
    """
    check_rater_id(rater_id)
    rng = seeded_rng("order", public["seed"], rater_id)
    items = [public["items"][k] for k in rng.permutation(len(public["items"]))]
    pairs = public.get("calibration_pairs", [])
    cal: list[tuple[str, int]] = []
    for j in rng.permutation(len(pairs)):
        nn_id, hr_id = pairs[j]
        cal += [(nn_id, ANCHORS["nearest"]), (hr_id, ANCHORS["hr"])]
    return cal, items
