# Sourced by the GPU scripts: install the carried wheels, unpack VGG19, set the environment.
# The GPU machine has JAX but no TensorFlow, Python 3.12 and no network (see bench/RESULTS.md).
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl
export PYTHONPATH=/tmp/site:$PWD
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=3
export SRGAN_DATA_DIR=$PWD/.gpu/data
[ -f /tmp/vgg19.h5 ] || python3 scripts/gpu/pack_vgg.py unpack .gpu/vgg.npz /tmp/vgg19.h5
export SRGAN_VGG19_WEIGHTS=/tmp/vgg19.h5
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)"
