"""Issue #19: a resize-convolution generator that starts from the shipped SRResNet-MSE.

    python bench/resize_conv_start.py OUT.keras [--from srresnet-mse]

``models.srresnet(upsample="nearest")`` has the same head, residual trunk and tail as the shipped
sub-pixel SRResNet; only its two upsampling convolutions differ (64 -> 64 channels after a
nearest-neighbour x2, instead of 64 -> 256 before a pixel shuffle). This copies every layer whose
name and weight shapes agree and leaves the two upsampling convolutions at Keras' initialiser, so
that a short pixel-MSE run (``srgan train srresnet-mse --upsample nearest --init OUT.keras``) can
train them on the CPU instead of a pre-training from scratch. The layers copied and left new are
printed.
"""
from __future__ import annotations

import argparse


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="the .keras file to write")
    ap.add_argument("--from", dest="source", default="srresnet-mse", help="a weights spec (default: the shipped SRResNet-MSE)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the new layers' initial weights")
    args = ap.parse_args(argv)

    import keras

    from srgan_lib import models, weights

    keras.utils.set_random_seed(args.seed)
    source = weights.load_generator(args.source)
    target = models.srresnet(upsample="nearest")
    copied, new = [], []
    for layer in target.layers:
        w = layer.get_weights()
        if not w:
            continue
        try:
            src = source.get_layer(layer.name).get_weights()
        except ValueError:
            src = None
        if src is not None and [a.shape for a in src] == [a.shape for a in w]:
            layer.set_weights(src)
            copied.append(layer.name)
        else:
            new.append(layer.name)
    target.save(args.out)
    print(f"copied {len(copied)} layers from {args.source}; new (Keras' initialiser): {', '.join(new)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
