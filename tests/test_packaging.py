"""The library as pip and Colab users get it: a wheel installed outside the checkout.

The wheel must carry every subpackage and the shipped generators (data/weights/ becomes the package
data ``srgan_lib/shipped/``), and load them by name, checked against their manifests' sha256, with
nothing of the checkout on the path.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(srgan_lib(?:\.[a-z_]+)*)"', text.split("packages = [", 1)[1].split("]", 1)[0]))
    folders = {"srgan_lib." + p.parent.relative_to(ROOT / "srgan_lib").as_posix().replace("/", ".")
               for p in (ROOT / "srgan_lib").rglob("__init__.py") if p.parent != ROOT / "srgan_lib"}
    assert folders <= listed, f"packages missing from pyproject.toml: {sorted(folders - listed)}"
    assert {"srgan_lib", "srgan_lib.shipped"} <= listed


def _run_outside(target: Path, code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SRGAN_WEIGHTS_DIR",)}
    env["PYTHONPATH"] = str(target)
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)


def test_wheel_carries_modules_and_shipped_generators(installed_wheel):
    lib = installed_wheel / "srgan_lib"
    ours = {p.relative_to(ROOT / "srgan_lib").as_posix() for p in (ROOT / "srgan_lib").rglob("*.py")}
    theirs = {p.relative_to(lib).as_posix() for p in lib.rglob("*.py")}
    assert ours <= theirs, f"modules missing from the wheel: {sorted(ours - theirs)}"
    for manifest in sorted((ROOT / "data" / "weights").glob("*.json")):
        weights = manifest.with_name(manifest.name[:-len(".json")] + ".weights.h5")
        if not weights.is_file():
            continue  # evaluation tables are not models
        shipped = lib / "shipped" / weights.name
        digest = json.loads(manifest.read_text())["sha256"]
        with open(shipped, "rb") as f:
            assert hashlib.file_digest(f, "sha256").hexdigest() == digest, shipped


def test_installed_wheel_loads_shipped_generators_by_name(installed_wheel, tmp_path):
    code = f"""
import numpy as np
import srgan_lib
from pathlib import Path
from srgan_lib import models, weights
assert Path(srgan_lib.__file__).resolve().is_relative_to(Path({str(installed_wheel)!r}).resolve()), srgan_lib.__file__
names = sorted(weights.shipped_models())
assert {{"srresnet-mse", "srgan-vgg54"}} <= set(names), names
lr = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)
for name in names:
    g = weights.load_generator(name)
    np.save(Path(name + ".npy"), models.super_resolve(g, lr))
print("loaded", *names)
"""
    r = _run_outside(installed_wheel, code, tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "loaded" in r.stdout and "srresnet-mse" in r.stdout
    # the installed generators compute exactly what the checkout's do
    import numpy as np

    from srgan_lib import models, weights
    lr = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    for name in ("srresnet-mse", "srgan-vgg54"):
        ours = models.super_resolve(weights.load_generator(name), lr)
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}.npy"), ours)
