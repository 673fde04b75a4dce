# Sourced by the test and book scripts: find the offline data beside the checkout when it is there.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${SRGAN_DATA_DIR:-}" ] && [ -d "$here/../shared/datasets" ]; then
  export SRGAN_DATA_DIR="$(cd "$here/../shared/datasets" && pwd)"
fi
if [ -z "${SRGAN_VGG19_WEIGHTS:-}" ] && [ -f "$here/../shared/weights/vgg19_imagenet_uint8_notop.h5" ]; then
  export SRGAN_VGG19_WEIGHTS="$(cd "$here/../shared/weights" && pwd)/vgg19_imagenet_uint8_notop.h5"
fi
export PYTHONHASHSEED=0
export TF_CPP_MIN_LOG_LEVEL=2
export MPLBACKEND=Agg
