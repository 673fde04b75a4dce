"""Is the GAN training healthy? The discriminator's view of a batch, and its trend over a window.

Per step (``keras.ops``, inside the train step): :func:`discriminator_terms` gives the mean
probabilities ``d_real = mean D(I_HR)`` and ``d_fake = mean D(G(I_LR))`` and D's accuracy (real
logits > 0, fake logits < 0). A perfect discriminator has ``d_real = 1``, ``d_fake = 0`` and accuracy
1; one that cannot tell has both near 0.5 and accuracy near 0.5.

Over a window (numpy, on the host, from the values the loop already reads one block late):
:class:`HealthWindow` smooths them and says when D *wins*: its mean accuracy over a whole window is at or above
:data:`SATURATION_ACCURACY` (one batch's accuracy is noisy: a single row can dip). Then ``d_fake`` is near 0 and the generator's
non-saturating adversarial loss ``-log D(G(I_LR))`` hands it a push of nearly constant size
(its gradient w.r.t. the logit is ``D - 1``, about ``-1``) that says "look real" without saying how.
A discriminator that wins is not by itself the cause of artefacts (``bench/RESULTS.md``, the
recipe experiments: what made the shipped run's artefacts, and when its discriminator won).
"""
from __future__ import annotations

import collections
import math

from keras import ops

from srgan_lib import losses

__all__ = ["SATURATION_ACCURACY", "WINDOW_STEPS", "discriminator_terms", "HealthWindow", "saturation_advice"]

#: D accuracy at or above this over a whole window counts as "D wins"
SATURATION_ACCURACY = 0.95
#: default window, in steps
WINDOW_STEPS = 200


def discriminator_terms(real_logits, fake_logits) -> dict:
    """``{"d_real", "d_fake", "d_acc"}`` of one batch of logits (any shape: dense or patch heads)."""
    real = ops.cast(ops.convert_to_tensor(real_logits), "float32")
    fake = ops.cast(ops.convert_to_tensor(fake_logits), "float32")
    return {"d_real": ops.mean(ops.sigmoid(real)), "d_fake": ops.mean(ops.sigmoid(fake)),
            "d_acc": losses.discriminator_accuracy(real, fake)}


def saturation_advice(threshold: float = SATURATION_ACCURACY) -> str:
    return (f"the discriminator wins, and the generator's adversarial push is saturated; check the samples for "
            f"a grid or a colour cast that makes the fakes easy to spot (a lower --lr), then try a lower "
            f"discriminator learning rate (--d-lr), one-sided label smoothing (--real-label 0.9) or a smaller "
            f"adversarial weight (--adversarial-weight)")


class HealthWindow:
    """Means of ``d_real``, ``d_fake`` and ``d_acc`` over the last ``window`` steps of logged rows.

    :meth:`add` takes one logged step; :meth:`means` the smoothed values; :meth:`saturated` is True
    when the rows cover a whole window and their mean accuracy is >= ``threshold``;
    :meth:`warning` returns the one-line message the first time that happens, then None.
    """

    def __init__(self, window: int = WINDOW_STEPS, threshold: float = SATURATION_ACCURACY):
        self.window, self.threshold = int(window), float(threshold)
        self._rows: collections.deque = collections.deque()
        self._warned = False
        self._start: int | None = None  # the step before the first row: the window is full from start + window

    def add(self, step: int, d_real: float, d_fake: float, d_acc: float) -> None:
        values = (float(d_real), float(d_fake), float(d_acc))
        if not all(math.isfinite(v) for v in values):
            return
        if self._start is None:
            self._start = int(step) - 1
        self._rows.append((int(step),) + values)
        while self._rows and self._rows[0][0] <= step - self.window:
            self._rows.popleft()

    def means(self) -> dict:
        if not self._rows:
            return {}
        n = len(self._rows)
        return {k: sum(r[i] for r in self._rows) / n for i, k in ((1, "d_real"), (2, "d_fake"), (3, "d_acc"))}

    def saturated(self) -> bool:
        if not self._rows or self._rows[-1][0] - self._start < self.window:
            return False
        return self.means()["d_acc"] >= self.threshold

    def warning(self) -> str | None:
        if self._warned or not self.saturated():
            return None
        self._warned = True
        first, last = self._rows[0][0], self._rows[-1][0]
        m = self.means()
        return (f"step {last}: the discriminator's accuracy averaged {m['d_acc']:.1%} over steps {first}-{last} "
                f"(mean D(HR) {m['d_real']:.3f}, D(SR) {m['d_fake']:.3f}): " + saturation_advice(self.threshold))
