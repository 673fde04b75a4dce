"""srgan_lib: a small, tested Keras 3 implementation of SRGAN.

Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network", CVPR 2017.  One module per idea:

=============  ==============================================================
degrade        MATLAB-compatible bicubic resize and the LR degradations (Sec. 3)
metrics        PSNR / SSIM on the BT.601 Y channel with a border crop (Sec. 3.1)
models         SRResNet generator and the discriminator (Fig. 4)
vgg, losses    VGG19 feature maps phi_{i,j} and the perceptual loss (Eq. 3-7)
images         robust image reading / atomic writing
data           dataset registry and download, training patch pipeline
train          SRResNet pre-training and SRGAN adversarial training (Sec. 3.2)
evaluate       paper-style evaluation tables (``srgan eval``)
mos            mean-opinion-score studies (Sec. 3.4)
plots          small matplotlib helpers for the book's figures
upscale        tiled inference on images of any size (``srgan upscale``)
cli            the ``srgan`` command
=============  ==============================================================

Submodules are imported lazily so that ``import srgan_lib`` does not pull in a
Keras backend before the user has chosen one (``KERAS_BACKEND``).
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = {"degrade", "metrics", "models", "vgg", "losses", "images", "data",
               "train", "evaluate", "mos", "cli", "weights", "export", "plots", "errors",
               "atomic", "teaching", "inference"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "upscale":
        # ``srgan_lib.upscale(...)`` is the high-level function of the module of the same name.
        return importlib.import_module(f"{__name__}.upscale").upscale
    raise AttributeError(f"module 'srgan_lib' has no attribute {name!r}")
