"""Run in a fresh process (see test_upscale.py): tiled vs whole-image uint8 output of one
predictor, count of differing values for a small SRResNet, printed as JSON.  The environment
(KERAS_BACKEND, TF_ENABLE_ONEDNN_OPTS) is set by the caller before Keras is imported."""
import json
import sys

import numpy as np

import keras
from srgan_lib import inference, models
from srgan_lib import upscale as U

keras.utils.set_random_seed(0)
model = models.srresnet(num_blocks=2, filters=16)
pred = inference.make_predictor(model)
rf = U.receptive_radius(model)
out = {}
for shape in [(53, 71), (40, 40), (1, 57), (45, 1), (9, 13)]:
    img = np.random.default_rng(sum(shape)).integers(0, 256, shape + (3,), dtype=np.uint8)
    whole = U.upscale(img, pred, tile=0)
    for tile, batch in ((29, 1), (29, 3), (31, 2), (40, 1), (64, 1)):
        tiled = U.upscale(img, pred, tile=tile, overlap=rf, batch=batch)
        out[f"{shape}-{tile}-{batch}"] = int((tiled != whole).sum())
json.dump(out, sys.stdout)
