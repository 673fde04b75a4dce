"""Run in a fresh process (see test_upscale.py): tiled vs whole-image uint8 output, count of
differing pixels for a small SRResNet, printed as JSON.  The environment (KERAS_BACKEND,
TF_ENABLE_ONEDNN_OPTS) is set by the caller before Keras is imported."""
import json
import sys

import numpy as np

import keras
from srgan_lib import models
from srgan_lib import upscale as U

keras.utils.set_random_seed(0)
model = models.srresnet(num_blocks=2, filters=16)
rf = U.receptive_field(model)
out = {}
for shape in [(53, 71), (40, 40), (1, 57), (45, 1), (9, 13)]:
    img = np.random.default_rng(sum(shape)).integers(0, 256, shape + (3,), dtype=np.uint8)
    whole = models.super_resolve(model, img)
    for tile in (29, 31, 40, 64):
        tiled = U.upscale(img, model, tile=tile, overlap=rf)
        out[f"{shape}-{tile}"] = int((tiled != whole).sum())
json.dump(out, sys.stdout)
