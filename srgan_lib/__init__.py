"""srgan_lib: a small, tested Keras 3 implementation of SRGAN.

Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network", CVPR 2017.  One module per idea:

=============  ==============================================================
degrade        MATLAB-compatible bicubic resize and the LR degradations (Sec. 3)
metrics        PSNR / SSIM on the BT.601 Y channel with a border crop (Sec. 3.1)
models         SRResNet generator and the discriminator (Fig. 4)
vgg, losses    VGG19 feature maps phi_{i,j} and the perceptual loss (Eq. 3-7)
images         robust image reading / atomic writing
data           dataset registry, download and training images
patches        the training patch pipeline
train          SRResNet pre-training and SRGAN adversarial training (Sec. 3.2)
evaluate       paper-style evaluation tables (``srgan eval``)
mos            mean-opinion-score studies (Sec. 3.4)
weights        load a generator: run folder, weights file or shipped preset
teaching       teaching-only helpers of the book, plots included (one module per idea)
inference      a generator compiled for inference (uint8 in, uint8 out, BN folded)
upscale        tiled inference on images of any size (``srgan upscale``)
export         a trained generator as .keras, SavedModel or ONNX (``srgan export``)
errors, atomic the user-facing exceptions; atomic files and folders for every output
cli            the ``srgan`` command, one module per subcommand (the only argparse)
=============  ==============================================================

Submodules are imported lazily so that ``import srgan_lib`` does not pull in a
Keras backend before the user has chosen one (``KERAS_BACKEND``): ``srgan_lib.models``
is the module ``srgan_lib/models.py`` (``srgan_lib.upscale`` the module; its function is
``from srgan_lib.upscale import upscale``).
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = {"degrade", "metrics", "models", "vgg", "losses", "images", "data",
               "patches", "train", "evaluate", "mos", "cli", "weights", "export", "errors",
               "atomic", "teaching", "inference", "upscale", "methods", "content_scale", "artefacts",
               "lpips"}


def __getattr__(name):
    """``srgan_lib.NAME`` imports the submodule NAME on first use (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'srgan_lib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
