"""Mean-opinion-score (MOS) studies, as in Ledig et al. 2017, Sec. 3.4.

The paper asked 26 raters to score SR images from 1 (bad) to 5 (excellent);
every image was shown in 12 versions (NN, bicubic, ..., SRGAN-*, HR), raters were
calibrated beforehand on NN (score 1) and HR (score 5) examples, and the paper
reports the MOS per method with the distribution of the ratings (Fig. 5).

A study has three steps:

``srgan mos prepare``
    builds a *blinded* study folder::

        STUDY_DIR/manifest.json      analyst only: item id -> (dataset, image, method)
        STUDY_DIR/rater/             send this folder (or one page) to the raters
            study.json               public: study id, opaque item ids, calibration anchors
            items/<id>.png           every SR output under an opaque id
            rate_<rater>.html        one self-contained page per rater (file://, no server)
        STUDY_DIR/ratings/           where ratings are collected (the notebook rater writes here)

    NN and HR are always part of a study (the paper's anchors).  Each rater sees the
    items in an order of their own, derived from ``--seed`` and the rater id, after
    ``--calibration`` NN/HR examples shown with their anchor scores.

rating
    in a browser (``rater/rate_<id>.html``: keys 1-5 or clicks, progress kept in
    localStorage, "Download ratings" saves a JSON file) or in a notebook
    (:class:`Rater`, ipywidgets, every rating written atomically to
    ``ratings/<rater>.json``).  Both write the same ratings format::

        {"format": "sr-mos-ratings", "version": 1, "study_id": "...", "rater_id": "r01",
         "ratings": [{"item": "3f9a1c0d5e7b", "score": 4, "time": "2025-01-01T12:00:00.000Z"}, ...]}

``srgan mos aggregate``
    checks the rating files, flags raters who do not rate HR above NN, and reports
    the MOS per method and dataset with 95% confidence intervals, paired
    significance tests and the distribution of the ratings (Fig. 5 style plots).

Statistics (see :func:`aggregate`):

* MOS = mean over raters of each rater's mean score for (dataset, method); with a
  complete design (every rater rated every item) this is exactly the mean of all
  ratings, the paper's MOS.
* 95% CI = Student-t interval over the per-rater means.  The rater is the
  independent sampling unit: ratings by one rater share that rater's bias, so a
  naive interval over all ratings (n = raters x images) is far too narrow.  The
  benchmark images are treated as fixed (MOS "on Set5" is about those images),
  so the interval is about the population of raters.
* Significance: two-sided Wilcoxon signed-rank test on the per-rater means of two
  methods, paired by rater (every rater rates every method, so the design is
  paired; per-rater means are not normal on a 1..5 scale with few raters), with
  Holm's step-down correction over all method pairs of a dataset (controls the
  family-wise error at 5% without assuming independent tests, and is uniformly
  more powerful than Bonferroni).
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html as _html
import json
import math
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from srgan_lib.images import atomic_write

FORMAT_VERSION = 1
RATINGS_FORMAT = "sr-mos-ratings"
STUDY_FORMAT = "sr-mos-study"
PUBLIC_FORMAT = "sr-mos-public"
#: anchor methods, always part of a study, with the score they stand for in calibration
ANCHORS = {"nearest": 1, "hr": 5}
SCORE_LABELS = {1: "bad", 2: "poor", 3: "fair", 4: "good", 5: "excellent"}
#: pages larger than this reference ``items/*.png`` instead of embedding them (--embed auto)
EMBED_LIMIT_BYTES = 25 * 1024 * 1024
CI_METHOD = "Student-t 95% interval over per-rater means (rater = sampling unit; images fixed)"
TEST_METHOD = ("two-sided Wilcoxon signed-rank test on per-rater means, paired by rater; "
               "Holm correction over all method pairs of a dataset; significant if p_holm < 0.05")

_RATER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _user_error(msg: str) -> Exception:
    from srgan_lib.cli import UserError
    return UserError(msg)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _atomic_write_json(path: Path, obj) -> None:
    _atomic_write_bytes(path, (json.dumps(obj, indent=1) + "\n").encode("utf-8"))


def check_rater_id(rater_id: str) -> str:
    if not isinstance(rater_id, str) or not _RATER_ID.match(rater_id):
        raise ValueError(f"invalid rater id {rater_id!r}: use 1-64 letters, digits, '_', '.' or '-'")
    return rater_id


# --------------------------------------------------------------------------- prepare
def _parse_methods(methods) -> list[tuple[str, str]]:
    """``["nearest", "bicubic", "gan=runs/x"]`` -> [(label, spec)] with NN first and HR last."""
    if isinstance(methods, str):
        methods = [m for m in methods.split(",")]
    out: list[tuple[str, str]] = []
    for m in methods:
        m = m.strip()
        if not m:
            continue
        if "=" in m:
            label, spec = (s.strip() for s in m.split("=", 1))
        else:
            label, spec = m, m
            if "/" in m or os.sep in m:
                label = Path(m.rstrip("/" + os.sep)).name or m
        if not label or not spec:
            raise ValueError(f"invalid method {m!r}: use SPEC or LABEL=SPEC")
        if label.lower() in ("nn", "nearest"):
            label, spec = "nearest", "nearest"
        if label.lower() == "hr":
            label, spec = "hr", "hr"
        if label in [l for l, _ in out]:
            continue
        out.append((label, spec))
    labels = [l for l, _ in out]
    if "nearest" not in labels:
        out.insert(0, ("nearest", "nearest"))
    if "hr" not in labels:
        out.append(("hr", "hr"))
    return out


def _center_crop(img: np.ndarray, size: int | None) -> np.ndarray:
    from srgan_lib.images import center_crop
    return center_crop(img, size)


def _png_bytes(img: np.ndarray) -> bytes:
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG")
    return buf.getvalue()


def _sr_sources(datasets, methods, scale, crop, progress=print):
    """Yield (dataset, image_name, method_label, uint8 image) for every item of the study."""
    from srgan_lib.degrade import degrade
    from srgan_lib.evaluate import load_eval_set, make_method

    fns = {}
    for label, spec in methods:
        if spec != "hr":
            fns[label] = make_method(spec, scale)
    for ds in datasets:
        images = load_eval_set(ds, scale)
        if not images:
            raise ValueError(f"dataset {ds!r} has no images")
        progress(f"{ds}: {len(images)} images x {len(methods)} methods")
        for name, hr in images:
            lr = degrade(hr, scale, "bicubic")
            for label, spec in methods:
                sr = hr if spec == "hr" else np.asarray(fns[label](lr))
                if sr.shape != hr.shape:
                    raise ValueError(f"method {label!r} returned shape {sr.shape} for {ds}/{name}, "
                                     f"expected {hr.shape}")
                yield ds, name, label, _center_crop(sr, crop)


def _calibration_sources(dataset, scale, crop):
    from srgan_lib.degrade import degrade, upscale_nearest
    from srgan_lib.evaluate import load_eval_set
    for name, hr in load_eval_set(dataset, scale):
        nn = upscale_nearest(degrade(hr, scale, "bicubic"), scale)
        yield name, _center_crop(nn, crop), _center_crop(hr, crop)


def _seeded_rng(*parts) -> np.random.Generator:
    digest = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def prepare_study(datasets, methods, out, *, raters: int = 5, seed: int = 0, calibration: int = 20,
                  calibration_dataset: str | None = None, crop: int | None = None, scale: int = 4,
                  embed: str = "auto", overwrite: bool = False, sources=None, calibration_sources=None,
                  progress=print) -> dict:
    """Build a blinded MOS study in ``out`` and return its manifest.

    ``datasets``: names or folders for :func:`srgan_lib.evaluate.load_eval_set`;
    ``methods``: specs for :func:`srgan_lib.evaluate.make_method` (``LABEL=SPEC`` to
    name one); ``nearest`` and ``hr`` are always added.  LR images are the bicubic
    degradation of the (mod-cropped) HR images.  ``crop``: centre-crop every version
    to at most ``crop`` x ``crop`` pixels (same region for all methods).
    ``calibration``: number of anchor examples (NN = 1, HR = 5) shown to each rater
    before the study, drawn from ``calibration_dataset`` (default: the first dataset;
    the paper used separate images, e.g. ``BSD200``).  ``embed``: ``"yes"`` embeds the
    images in each rater page as data URIs (one file to e-mail), ``"no"`` references
    ``items/<id>.png``, ``"auto"`` embeds while a page stays under 25 MB.

    ``sources`` / ``calibration_sources`` replace the image pipeline (tests): iterables of
    ``(dataset, image, method, uint8)`` and ``(image, nn_uint8, hr_uint8)``.
    """
    if isinstance(datasets, str):
        datasets = [d.strip() for d in datasets.split(",") if d.strip()]
    datasets = list(datasets)
    if not datasets:
        raise ValueError("no dataset given")
    method_specs = _parse_methods(methods)
    if raters < 0:
        raise ValueError("--raters must be >= 0")
    if calibration < 0:
        raise ValueError("--calibration must be >= 0")
    if embed not in ("auto", "yes", "no"):
        raise ValueError(f"--embed must be auto, yes or no, not {embed!r}")
    if crop is not None and crop < 8:
        raise ValueError("--crop must be at least 8 pixels")
    out = Path(out)
    _check_out(out, overwrite)

    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        manifest = _build(tmp, datasets, method_specs, raters=raters, seed=seed, calibration=calibration,
                          calibration_dataset=calibration_dataset or datasets[0], crop=crop, scale=scale,
                          embed=embed, sources=sources, calibration_sources=calibration_sources,
                          progress=progress)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _check_out(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    if not any(out.iterdir()):
        return
    if not overwrite:
        raise FileExistsError(f"study folder {out} already exists (use --overwrite to replace it)")
    if not (out / "manifest.json").is_file():
        raise FileExistsError(f"{out} is not empty and is not a MOS study (no manifest.json); refusing to replace it")
    ratings = out / "ratings"
    if ratings.is_dir() and any(ratings.iterdir()):
        raise FileExistsError(f"{out} already holds ratings in {ratings}; move them away before --overwrite")


def _build(root: Path, datasets, method_specs, *, raters, seed, calibration, calibration_dataset, crop,
           scale, embed, sources, calibration_sources, progress) -> dict:
    rater_dir = root / "rater"
    items_dir = rater_dir / "items"
    items_dir.mkdir(parents=True)
    (root / "ratings").mkdir()
    id_rng = _seeded_rng("item-ids", seed)
    used: set[str] = set()

    def new_id() -> str:
        while True:
            i = id_rng.bytes(6).hex()
            if i not in used:
                used.add(i)
                return i

    def store(img: np.ndarray) -> tuple[str, int]:
        img = np.asarray(img)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"study images must be uint8 (H,W,3), got {img.dtype} {img.shape}")
        i = new_id()
        data = _png_bytes(img)
        _atomic_write_bytes(items_dir / f"{i}.png", data)  # PNG without metadata: the id is all it says
        return i, len(data)

    labels = [l for l, _ in method_specs]
    items: dict[str, dict] = {}
    total_bytes = 0
    if sources is None:
        sources = _sr_sources(datasets, method_specs, scale, crop, progress)
    seen = set()
    for ds, name, method, img in sources:
        if method not in labels:
            raise ValueError(f"unknown method {method!r} in sources")
        key = (ds, name, method)
        if key in seen:
            raise ValueError(f"duplicate study item {key}")
        seen.add(key)
        i, nbytes = store(img)
        total_bytes += nbytes
        items[i] = {"dataset": ds, "image": name, "method": method}
    if not items:
        raise ValueError("the study has no images")

    cal_items: dict[str, dict] = {}
    pairs: list[list[str]] = []
    if calibration > 0:
        if calibration_sources is None:
            calibration_sources = _calibration_sources(calibration_dataset, scale, crop)
        for name, nn, hr in calibration_sources:
            nn_id, nb1 = store(nn)
            hr_id, nb2 = store(hr)
            total_bytes += nb1 + nb2
            cal_items[nn_id] = {"dataset": calibration_dataset, "image": name, "method": "nearest", "anchor": 1}
            cal_items[hr_id] = {"dataset": calibration_dataset, "image": name, "method": "hr", "anchor": 5}
            pairs.append([nn_id, hr_id])
        if calibration > 2 * len(pairs):
            progress(f"note: only {2 * len(pairs)} calibration examples available (asked for {calibration})")
            calibration = 2 * len(pairs)

    study_id = secrets.token_hex(8)
    public = {
        "format": PUBLIC_FORMAT, "version": FORMAT_VERSION, "study_id": study_id, "seed": seed,
        "items": sorted(items),  # sorted opaque ids: the order says nothing about the method
        "calibration_pairs": sorted(pairs), "calibration_count": calibration,
        "scores": {str(k): v for k, v in SCORE_LABELS.items()},
    }
    _atomic_write_json(rater_dir / "study.json", public)
    if embed == "auto":
        embed_flag = total_bytes * 4 / 3 < EMBED_LIMIT_BYTES
    else:
        embed_flag = embed == "yes"
    rater_ids = [f"r{k:02d}" for k in range(1, raters + 1)]
    manifest = {
        "format": STUDY_FORMAT, "version": FORMAT_VERSION, "study_id": study_id, "created": _now(),
        "scale": scale, "degradation": "bicubic", "seed": seed, "crop": crop,
        "datasets": datasets, "methods": labels, "method_specs": dict(method_specs),
        "anchors": dict(ANCHORS), "calibration": {"count": calibration, "dataset": calibration_dataset},
        "embed": bool(embed_flag), "raters": rater_ids,
        "items": items, "calibration_items": cal_items,
    }
    _atomic_write_json(root / "manifest.json", manifest)
    for r in rater_ids:
        write_rater_page(root, r, embed=embed_flag)
    page = (rater_dir / f"rate_{rater_ids[0]}.html").stat().st_size if rater_ids else 0
    progress(f"study {study_id}: {len(items)} items, {len(pairs)} calibration pairs, "
             f"{len(rater_ids)} rater pages ({'embedded' if embed_flag else 'referencing items/'}, "
             f"{page / 1e6:.1f} MB each)")
    return manifest


def _public_dir(study_dir) -> Path:
    study_dir = Path(study_dir)
    if (study_dir / "rater" / "study.json").is_file():
        return study_dir / "rater"
    if (study_dir / "study.json").is_file():
        return study_dir
    raise FileNotFoundError(f"{study_dir} is not a MOS study folder (no rater/study.json)")


def load_public(study_dir) -> dict:
    path = _public_dir(study_dir) / "study.json"
    data = json.loads(path.read_text())
    if data.get("format") != PUBLIC_FORMAT:
        raise ValueError(f"{path}: not a MOS study description")
    return data


def rater_sequence(public: dict, rater_id: str) -> tuple[list[tuple[str, int]], list[str]]:
    """(calibration [(item id, anchor score)], study item ids in rating order) for one rater.

    A pure function of the study's seed and the rater id, so a page, a notebook and
    a re-generated page all show the same order."""
    check_rater_id(rater_id)
    rng = _seeded_rng("order", public["seed"], rater_id)
    items = [public["items"][k] for k in rng.permutation(len(public["items"]))]
    pairs = public.get("calibration_pairs", [])
    k = int(public.get("calibration_count", 0))
    cal: list[tuple[str, int]] = []
    if k and pairs:
        order = rng.permutation(len(pairs))
        for j in order[: math.ceil(k / 2)]:
            nn_id, hr_id = pairs[j]
            cal += [(nn_id, ANCHORS["nearest"]), (hr_id, ANCHORS["hr"])]
        cal = cal[:k]
    return cal, items


def _template() -> str:
    return resources.files("srgan_lib").joinpath("mos_rater.html").read_text(encoding="utf-8")


def write_rater_page(study_dir, rater_id: str, *, embed: bool | None = None, overwrite: bool = False) -> Path:
    """Write ``rater/rate_<rater_id>.html``: a self-contained page (no server, works from file://)."""
    check_rater_id(rater_id)
    pub_dir = _public_dir(study_dir)
    public = load_public(study_dir)
    if embed is None:
        manifest_path = Path(study_dir) / "manifest.json"
        embed = json.loads(manifest_path.read_text()).get("embed", False) if manifest_path.is_file() else False
    cal, items = rater_sequence(public, rater_id)

    def src(i: str) -> str:
        if embed:
            data = (pub_dir / "items" / f"{i}.png").read_bytes()
            return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        return f"items/{i}.png"

    data = {
        "version": FORMAT_VERSION, "format": RATINGS_FORMAT, "study_id": public["study_id"],
        "rater_id": rater_id, "scores": public.get("scores", {str(k): v for k, v in SCORE_LABELS.items()}),
        "calibration": [{"id": i, "anchor": a, "src": src(i)} for i, a in cal],
        "items": [{"id": i, "src": src(i)} for i in items],
    }
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = _template()
    marker = "/*__STUDY_DATA__*/null"
    if marker not in page:
        raise RuntimeError("mos_rater.html template has no data marker")
    page = page.replace(marker, payload).replace("__TITLE__", _html.escape(f"Image quality rating — {rater_id}"))
    path = pub_dir / f"rate_{rater_id}.html"
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists (use --overwrite)")
    _atomic_write_bytes(path, page.encode("utf-8"))
    return path


# --------------------------------------------------------------------------- notebook rater
class Rater:
    """An ipywidgets rater for notebooks: ``mos.Rater("study", "alice")`` then display it.

    Shows one image at a time with buttons 1-5 (or type a digit 1-5 into the key box),
    a progress bar, and saves every rating at once (atomic JSON write) to
    ``STUDY_DIR/ratings/<rater_id>.json``, so a kernel restart loses nothing; a new
    ``Rater`` for the same id resumes after the last rated image.  Calibration
    examples (NN = 1, HR = 5) come first and are acknowledged with "Next".
    """

    def __init__(self, study_dir, rater_id: str):
        try:
            import ipywidgets as w
        except ImportError:
            raise ImportError("mos.Rater needs ipywidgets: pip install 'srgan-lib[book]'") from None

        check_rater_id(rater_id)
        self.study_dir = Path(study_dir)
        self.public_dir = _public_dir(study_dir)
        self.public = load_public(study_dir)
        self.rater_id = rater_id
        self.calibration, self.items = rater_sequence(self.public, rater_id)
        root = self.public_dir.parent if self.public_dir.name == "rater" else self.public_dir
        self.ratings_path = root / "ratings" / f"{rater_id}.json"
        self.ratings_path.parent.mkdir(parents=True, exist_ok=True)
        self.ratings: list[dict] = []
        self.calibrated = False
        if self.ratings_path.exists():
            self._load_existing()
        self._rated = {r["item"] for r in self.ratings}
        self.cal_pos = len(self.calibration) if self.calibrated else 0

        self.image = w.Image(format="png")
        self.caption = w.HTML()
        self.progress = w.IntProgress(min=0, max=len(self.items), description="progress")
        self.count = w.Label()
        self.buttons = []
        for s in range(1, 6):
            b = w.Button(description=f"{s} {SCORE_LABELS[s]}", layout=w.Layout(width="110px"))
            b.score = s
            b.on_click(self._on_button)
            self.buttons.append(b)
        self.next_button = w.Button(description="Next", button_style="info")
        self.next_button.on_click(self._on_next)
        self.undo_button = w.Button(description="Undo last")
        self.undo_button.on_click(self._on_undo)
        self.key_box = w.Text(placeholder="type 1-5 here", continuous_update=True,
                              layout=w.Layout(width="130px"))
        self.key_box.observe(self._on_key, names="value")
        self.status = w.Label()
        self.widget = w.VBox([
            w.HBox([self.progress, self.count]), self.caption, self.image,
            w.HBox(self.buttons + [self.next_button]), w.HBox([self.key_box, self.undo_button, self.status]),
        ])
        self._show()

    # -- persistence
    def _load_existing(self) -> None:
        try:
            data = json.loads(self.ratings_path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self.ratings_path}: not valid JSON ({exc.msg}); move it away to start again") from None
        if data.get("study_id") != self.public["study_id"] or data.get("rater_id") != self.rater_id:
            raise ValueError(f"{self.ratings_path} belongs to another study or rater; refusing to overwrite it")
        known = set(self.items)
        self.ratings = [r for r in data.get("ratings", []) if r.get("item") in known]
        self.calibrated = bool(data.get("calibrated", False)) or bool(self.ratings)

    def _save(self) -> None:
        _atomic_write_json(self.ratings_path, {
            "format": RATINGS_FORMAT, "version": FORMAT_VERSION, "study_id": self.public["study_id"],
            "rater_id": self.rater_id, "client": "notebook", "calibrated": self.calibrated,
            "ratings": self.ratings,
        })

    # -- state
    @property
    def in_calibration(self) -> bool:
        return self.cal_pos < len(self.calibration)

    @property
    def current(self) -> str | None:
        """Id of the item shown now (None when all are rated)."""
        if self.in_calibration:
            return self.calibration[self.cal_pos][0]
        for i in self.items:
            if i not in self._rated:
                return i
        return None

    @property
    def done(self) -> bool:
        return not self.in_calibration and self.current is None

    def rate(self, score: int) -> None:
        """Record ``score`` (1-5) for the current item, save, and show the next one."""
        if isinstance(score, bool) or int(score) != score or not 1 <= score <= 5:
            raise ValueError(f"score must be 1..5, got {score!r}")
        if self.in_calibration:
            self.status.value = "calibration example: press Next"
            return
        item = self.current
        if item is None:
            self.status.value = "all images are rated - thank you"
            return
        self.ratings.append({"item": item, "score": int(score), "time": _now()})
        self._rated.add(item)
        self._save()
        self.status.value = f"saved ({len(self.ratings)} ratings)"
        self._show()

    def next(self) -> None:
        """Acknowledge the calibration example shown now."""
        if self.in_calibration:
            self.cal_pos += 1
            if not self.in_calibration:
                self.calibrated = True
                self._save()
            self._show()

    def undo(self) -> None:
        if self.ratings:
            last = self.ratings.pop()
            self._rated.discard(last["item"])
            self._save()
            self.status.value = "last rating removed"
            self._show()

    # -- widget handlers
    def _on_button(self, button) -> None:
        self.rate(button.score)

    def _on_next(self, _button) -> None:
        self.next()

    def _on_undo(self, _button) -> None:
        self.undo()

    def _on_key(self, change) -> None:
        text = change["new"] or ""
        if not text:
            return
        key = text[-1]
        self.key_box.value = ""  # re-enters this handler with "", which returns above
        if key in "12345":
            self.rate(int(key))
        elif key in " nN\n" and self.in_calibration:
            self.next()

    def _show(self) -> None:
        n = len(self.items)
        self.progress.value = len(self._rated)
        self.count.value = f"{len(self._rated)} / {n} rated"
        cal = self.in_calibration
        for b in self.buttons:
            b.disabled = cal or self.done
        self.next_button.layout.display = None if cal else "none"
        item = self.current
        if item is None:
            self.caption.value = "<b>All images are rated. Thank you!</b>"
            self.image.value = b""
            return
        self.image.value = (self.public_dir / "items" / f"{item}.png").read_bytes()
        if cal:
            score = self.calibration[self.cal_pos][1]
            self.caption.value = (f"<b>Calibration {self.cal_pos + 1}/{len(self.calibration)}:</b> this image is an "
                                  f"example of score <b>{score} ({SCORE_LABELS[score]})</b>. Press Next.")
        else:
            self.caption.value = "Rate the quality of this image: 1 (bad) to 5 (excellent)."

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


# --------------------------------------------------------------------------- aggregate
@dataclass
class RatingsFile:
    path: Path
    rater_id: str
    ratings: list[dict]
    client: str = ""
    notes: list[str] = field(default_factory=list)
    simulated: bool = False  # written by simulate_ratings, not by a person


def load_manifest(study_dir) -> dict:
    path = Path(study_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {study_dir} is not a MOS study folder")
    try:
        m = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg})") from None
    if m.get("format") != STUDY_FORMAT:
        raise ValueError(f"{path}: not a MOS study manifest")
    return m


def load_ratings(path, manifest: dict) -> RatingsFile:
    """Read and validate one ratings file; any problem -> a one-line ``UserError`` naming the file."""
    path = Path(path)

    def bad(msg):
        return _user_error(f"{path}: {msg}")

    if not path.is_file():
        raise bad("no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise bad("not a text (JSON) file") from None
    except json.JSONDecodeError as exc:
        raise bad(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != RATINGS_FORMAT:
        raise bad("not a MOS ratings file (format is not 'sr-mos-ratings')")
    if data.get("version") != FORMAT_VERSION:
        raise bad(f"unsupported ratings format version {data.get('version')!r} (expected {FORMAT_VERSION})")
    if data.get("study_id") != manifest["study_id"]:
        raise bad(f"ratings belong to study {data.get('study_id')!r}, not to this study {manifest['study_id']!r}")
    rater = data.get("rater_id")
    if not isinstance(rater, str) or not _RATER_ID.match(rater):
        raise bad(f"invalid rater id {rater!r}")
    ratings = data.get("ratings")
    if not isinstance(ratings, list):
        raise bad("'ratings' is not a list")
    items = manifest["items"]
    seen = set()
    clean = []
    for k, r in enumerate(ratings):
        if not isinstance(r, dict):
            raise bad(f"rating #{k + 1} is not an object")
        item, score, t = r.get("item"), r.get("score"), r.get("time")
        if item not in items:
            raise bad(f"rating #{k + 1}: unknown item id {item!r}")
        if isinstance(score, bool) or not isinstance(score, (int, float)) or score != int(score) \
                or not 1 <= score <= 5:
            raise bad(f"rating #{k + 1}: score {score!r} is not an integer in 1..5")
        if not isinstance(t, str):
            raise bad(f"rating #{k + 1}: missing timestamp")
        try:
            _dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        except ValueError:
            raise bad(f"rating #{k + 1}: bad timestamp {t!r}") from None
        if item in seen:
            raise bad(f"item {item!r} is rated twice")
        seen.add(item)
        clean.append({"item": item, "score": int(score), "time": t})
    simulated = data.get("simulated", False)
    if not isinstance(simulated, bool):
        raise bad(f"'simulated' must be true or false, got {simulated!r}")
    return RatingsFile(path=path, rater_id=rater, ratings=clean, client=str(data.get("client", "")),
                       simulated=simulated)


#: latent mean scores (before rater bias, noise, rounding and clipping to 1..5) that
#: :func:`simulate_ratings` uses for the anchors and the bicubic baseline when ``true_means``
#: does not give them; roughly the paper's Table 2 MOS (NN 1.11-1.28 ... HR 4.32-4.46, bicubic 1.47-1.95)
SIMULATION_DEFAULT_MEANS = {"nearest": 1.3, "bicubic": 2.0, "hr": 4.5}
SIMULATED_CLIENT = "srgan_lib.mos.simulate_ratings (SIMULATED ratings: not human judgements)"


def simulate_ratings(study_dir, raters: int = 26, seed: int = 0, noise: float = 0.6, true_means=None, *,
                     rater_sd: float = 0.3, adversarial: int = 0, out_dir=None, prefix: str = "sim",
                     overwrite: bool = False) -> list[Path]:
    """Write ratings files of SIMULATED raters for a prepared study; returns their paths.

    For demonstrations and tests of :func:`aggregate` only: every file says
    ``"simulated": true`` and ``"client": SIMULATED_CLIENT``, and :func:`aggregate` /
    :func:`format_report` list the simulated raters (``report["simulated_raters"]`` and a
    ``SIMULATED: ...`` line).

    Model: rater ``r`` scores item ``i`` (method ``m``) as
    ``clip(round(true_means[m] + b_r + e_ri), 1, 5)`` with a rater bias ``b_r ~ N(0, rater_sd)``
    and per-rating noise ``e_ri ~ N(0, noise)`` (one ``numpy.random.default_rng(seed)``: for each
    rater, the bias, then the noise of every study item in manifest order).  ``true_means`` maps
    each method of the study to its latent mean; it is merged over
    :data:`SIMULATION_DEFAULT_MEANS` (NN, bicubic, HR), and a study method with no mean is a
    ``ValueError``.  ``adversarial`` extra raters (``adv0``, ...) score NN 5, HR 1 and the rest 3,
    which the calibration check flags.  Raters are ``{prefix}00``, ``{prefix}01``, ...; the files
    go to ``out_dir`` (default ``STUDY_DIR/ratings/simulated/``), ``<rater>.json``, and an
    existing file is a ``FileExistsError`` unless ``overwrite``.  Timestamps are fake
    (2000-01-01, one second per rating, one hour per rater).
    """
    manifest = load_manifest(study_dir)
    raters, adversarial = int(raters), int(adversarial)
    if raters < 0 or adversarial < 0 or raters + adversarial < 1:
        raise ValueError(f"need at least one rater (raters={raters}, adversarial={adversarial})")
    if noise < 0 or rater_sd < 0:
        raise ValueError(f"noise and rater_sd must be >= 0, got {noise}, {rater_sd}")
    means = {**SIMULATION_DEFAULT_MEANS, **(true_means or {})}
    missing = [m for m in manifest["methods"] if m not in means]
    if missing:
        raise ValueError(f"true_means gives no latent mean for the study's method(s) {', '.join(missing)} "
                         f"(known: {', '.join(means)})")
    out = Path(out_dir) if out_dir is not None else Path(study_dir) / "ratings" / "simulated"
    ids = [check_rater_id(f"{prefix}{r:02d}") for r in range(raters)] + [f"adv{a}" for a in range(adversarial)]
    paths = [out / f"{rid}.json" for rid in ids]
    if not overwrite:
        for path in paths:
            if path.exists():
                raise FileExistsError(f"{path} exists (pass overwrite=True to replace simulated ratings)")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    base = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)
    items = manifest["items"]
    for k, (rid, path) in enumerate(zip(ids, paths)):
        if k < raters:
            bias = rng.normal(0, rater_sd)
            scores = {i: int(np.clip(np.rint(means[it["method"]] + bias + rng.normal(0, noise)), 1, 5))
                      for i, it in items.items()}
        else:
            scores = {i: {"nearest": 5, "hr": 1}.get(it["method"], 3) for i, it in items.items()}
        ratings = [{"item": i, "score": sc,
                    "time": (base + _dt.timedelta(hours=k, seconds=n)).isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z")} for n, (i, sc) in enumerate(scores.items())]
        _atomic_write_json(path, {
            "format": RATINGS_FORMAT, "version": FORMAT_VERSION, "study_id": manifest["study_id"],
            "rater_id": rid, "simulated": True, "client": SIMULATED_CLIENT,
            "simulation": {"seed": int(seed), "noise": float(noise), "rater_sd": float(rater_sd),
                           "true_means": {m: float(means[m]) for m in manifest["methods"]},
                           "adversarial": k >= raters},
            "ratings": ratings})
    return paths


def _dedupe(files: list[RatingsFile]) -> tuple[list[RatingsFile], list[str]]:
    """Drop duplicate submissions: identical content (kept once) and the same rater twice
    (the file with more ratings wins; on a tie, the one whose last rating is later)."""
    notes: list[str] = []
    by_content: dict[str, RatingsFile] = {}
    kept: list[RatingsFile] = []
    for f in files:
        key = json.dumps(sorted((r["item"], r["score"], r["time"]) for r in f.ratings))
        if f.ratings and key in by_content:
            first = by_content[key]
            notes.append(f"duplicate: {f.path} has the same ratings as {first.path} "
                         f"(raters {first.rater_id!r}/{f.rater_id!r}); {f.path} ignored")
            continue
        by_content[key] = f
        kept.append(f)
    by_rater: dict[str, RatingsFile] = {}
    for f in kept:
        other = by_rater.get(f.rater_id)
        if other is None:
            by_rater[f.rater_id] = f
            continue

        def rank(x):
            return (len(x.ratings), max((r["time"] for r in x.ratings), default=""))
        win, lose = (f, other) if rank(f) > rank(other) else (other, f)
        notes.append(f"duplicate: rater {f.rater_id!r} submitted twice ({other.path}, {f.path}); "
                     f"kept {win.path} ({len(win.ratings)} ratings), ignored {lose.path}")
        by_rater[f.rater_id] = win
    return [f for f in kept if by_rater.get(f.rater_id) is f], notes


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as the input)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        adj[idx] = running
    return adj


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the Student-t interval; low/high are nan for fewer than 2 values."""
    from scipy import stats
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return mean, mean - half, mean + half


def wilcoxon_signed_rank(d) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank test of paired differences ``d``: (statistic, p).

    Zero differences are dropped (Wilcoxon's convention) and tied |d| get average
    ranks.  Up to 16 non-zero differences the p-value is exact: the signed-rank
    statistic is enumerated over all 2**n sign flips (with the tied ranks, which is
    what scipy's permutation method does, but without its cost); above that,
    ``scipy.stats.wilcoxon`` (exact without ties, else the tie-corrected normal
    approximation).  The statistic is min(T+, T-), as scipy reports it."""
    from scipy import stats
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return float("nan"), 1.0
    ranks = stats.rankdata(np.abs(d))
    tplus = float(ranks[d > 0].sum())
    stat = min(tplus, float(ranks.sum()) - tplus)
    if n <= 16:
        signs = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
        null = signs @ ranks
        mu = ranks.sum() / 2
        p = float(np.mean(np.abs(null - mu) >= abs(tplus - mu) - 1e-9))
        return stat, min(1.0, p)
    ties = len(np.unique(np.abs(d))) < n
    res = stats.wilcoxon(d, method="approx" if ties else "auto")
    return stat, float(res.pvalue)


def aggregate(study_dir, rating_files, *, exclude_flagged: bool = False) -> dict:
    """Validate the rating files and compute the report (a JSON-serialisable dict)."""
    manifest = load_manifest(study_dir)
    paths = [Path(p) for p in rating_files]
    if not paths:
        raise _user_error("no ratings files given")
    files = [load_ratings(p, manifest) for p in paths]
    files, notes = _dedupe(files)
    for f in files:
        if not f.ratings:
            notes.append(f"{f.path}: rater {f.rater_id!r} has no ratings")
    items = manifest["items"]
    methods, datasets = manifest["methods"], manifest["datasets"]

    # calibration check on the hidden NN and HR study items
    calib = []
    flagged = set()
    for f in files:
        nn = [r["score"] for r in f.ratings if items[r["item"]]["method"] == "nearest"]
        hr = [r["score"] for r in f.ratings if items[r["item"]]["method"] == "hr"]
        entry = {"rater": f.rater_id, "file": str(f.path), "n_ratings": len(f.ratings),
                 "nn_mean": float(np.mean(nn)) if nn else None, "hr_mean": float(np.mean(hr)) if hr else None}
        if nn and hr:
            entry["flagged"] = bool(entry["nn_mean"] >= entry["hr_mean"])
            entry["check"] = "flagged: does not rate HR above NN" if entry["flagged"] else "ok"
        else:
            entry["flagged"] = False
            entry["check"] = "unchecked: no NN and HR ratings yet"
        if entry["flagged"]:
            flagged.add(f.rater_id)
        calib.append(entry)
    excluded = sorted(flagged) if exclude_flagged else []
    used = [f for f in files if f.rater_id not in excluded]

    report = {
        "study_id": manifest["study_id"], "ci_method": CI_METHOD, "test_method": TEST_METHOD,
        "files": [str(f.path) for f in files], "raters": [f.rater_id for f in used],
        "flagged_raters": sorted(flagged), "excluded_raters": excluded, "notes": notes,
        "simulated_raters": [f.rater_id for f in used if f.simulated],
        "calibration": calib, "datasets": {},
    }
    for ds in datasets:
        per_rater: dict[str, dict[str, float]] = {m: {} for m in methods}
        dist = {m: [0] * 5 for m in methods}
        nr = {m: 0 for m in methods}
        for f in used:
            acc: dict[str, list[int]] = {}
            for r in f.ratings:
                it = items[r["item"]]
                if it["dataset"] != ds:
                    continue
                acc.setdefault(it["method"], []).append(r["score"])
                dist[it["method"]][r["score"] - 1] += 1
                nr[it["method"]] += 1
            for m, s in acc.items():
                per_rater[m][f.rater_id] = float(np.mean(s))
        rows = []
        for m in methods:
            vals = list(per_rater[m].values())
            if vals:
                mean, lo, hi = t_interval(vals)
                sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan")
            else:
                mean = lo = hi = sd = float("nan")
            rows.append({"method": m, "mos": mean, "ci_low": lo, "ci_high": hi, "sd_rater_means": sd,
                         "n_raters": len(vals), "n_ratings": nr[m], "distribution": dist[m]})
        tests = []
        for a_i in range(len(methods)):
            for b_i in range(a_i + 1, len(methods)):
                a, b = methods[a_i], methods[b_i]
                common = sorted(set(per_rater[a]) & set(per_rater[b]))
                d = np.array([per_rater[a][r] - per_rater[b][r] for r in common])
                stat, p = wilcoxon_signed_rank(d)
                tests.append({"a": a, "b": b, "n_raters": len(common),
                              "mean_diff": float(d.mean()) if len(d) else float("nan"),
                              "statistic": stat, "p": p})
        if tests:
            for t, ph in zip(tests, holm([t["p"] for t in tests])):
                t["p_holm"] = float(ph)
                t["significant"] = bool(ph < 0.05)
        report["datasets"][ds] = {"methods": rows, "tests": tests}
    return report


def _fmt(x, nd=2) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def _fmt_p(p) -> str:
    if p is None or math.isnan(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_report(report: dict, markdown: bool = True) -> str:
    """The report as markdown tables (``markdown=True``) or aligned plain text."""
    def table(header, rows):
        if markdown:
            out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
            out += ["| " + " | ".join(r) + " |" for r in rows]
            return out
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
        return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]

    h = "## " if markdown else ""
    lines = [f"{h}MOS study {report['study_id']}", "",
             f"raters: {len(report['raters'])} ({', '.join(report['raters'])})"]
    if report["excluded_raters"]:
        lines.append(f"excluded (calibration check failed): {', '.join(report['excluded_raters'])}")
    elif report["flagged_raters"]:
        lines.append(f"flagged (rate NN at or above HR; --exclude-flagged leaves them out): "
                     f"{', '.join(report['flagged_raters'])}")
    sim = report.get("simulated_raters", [])
    if sim:
        who = "ALL raters" if len(sim) == len(report["raters"]) else f"{len(sim)} of {len(report['raters'])} raters"
        lines.append(f"{'**' if markdown else ''}SIMULATED: the ratings of {who} ({', '.join(sim)}) were "
                     f"generated by srgan_lib.mos.simulate_ratings, not given by people; this report "
                     f"demonstrates the analysis and says nothing about the methods.{'**' if markdown else ''}")
    for n in report["notes"]:
        lines.append(f"note: {n}")
    lines += ["", f"CI: {report['ci_method']}", f"tests: {report['test_method']}"]
    for ds, d in report["datasets"].items():
        lines += ["", f"{h}{ds}", ""]
        rows = [[r["method"], _fmt(r["mos"]), f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]",
                 str(r["n_raters"]), str(r["n_ratings"]), " ".join(str(c) for c in r["distribution"])]
                for r in d["methods"]]
        lines += table(["method", "MOS", "95% CI", "raters", "ratings", "ratings 1..5"], rows)
        if d["tests"]:
            lines += ["", f"{'### ' if markdown else ''}{ds}: pairwise tests", ""]
            rows = [[f"{t['a']} vs {t['b']}", _fmt(t["mean_diff"]), str(t["n_raters"]), _fmt_p(t["p"]),
                     _fmt_p(t["p_holm"]), "yes" if t["significant"] else "no"] for t in d["tests"]]
            lines += table(["pair", "mean diff", "raters", "p", "p (Holm)", "significant"], rows)
    lines += ["", f"{h}Rater calibration check (hidden NN and HR items)", ""]
    rows = [[c["rater"], str(c["n_ratings"]), _fmt(c["nn_mean"]), _fmt(c["hr_mean"]), c["check"]]
            for c in report["calibration"]]
    lines += table(["rater", "ratings", "NN mean", "HR mean", "check"], rows)
    return "\n".join(lines) + "\n"


def plot_distributions(report: dict, out_dir) -> list[Path]:
    """Paper Fig. 5 style: per method a stacked bar of the share of each score 1..5, MOS as a red marker."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    colors = plt.get_cmap("RdYlGn")(np.linspace(0.05, 0.95, 5))
    for ds, d in report["datasets"].items():
        rows = d["methods"]
        fig, ax = plt.subplots(figsize=(1.1 * len(rows) + 2, 4.2))
        x = np.arange(len(rows))
        bottom = np.zeros(len(rows))
        for s in range(5):
            tot = np.array([max(sum(r["distribution"]), 1) for r in rows], dtype=float)
            frac = np.array([r["distribution"][s] for r in rows]) / tot
            ax.bar(x, frac, bottom=bottom, color=colors[s], edgecolor="white", label=f"{s + 1} {SCORE_LABELS[s + 1]}")
            bottom += frac
        ax2 = ax.twinx()
        mos = np.array([r["mos"] for r in rows], dtype=float)
        lo = np.array([r["ci_low"] for r in rows], dtype=float)
        hi = np.array([r["ci_high"] for r in rows], dtype=float)
        ax2.errorbar(x, mos, yerr=[np.nan_to_num(mos - lo), np.nan_to_num(hi - mos)], fmt="o", color="red",
                     capsize=4, label="MOS (95% CI)")
        ax2.set_ylim(0.5, 5.5)
        ax2.set_ylabel("MOS")
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of ratings")
        ax.set_xticks(x, [r["method"] for r in rows], rotation=30, ha="right")
        n = sum(sum(r["distribution"]) for r in rows)
        ax.set_title(f"{ds}: distribution of ratings ({n} ratings, {len(report['raters'])} raters)")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1[::-1] + h2, l1[::-1] + l2, loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8)
        fig.tight_layout()
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", ds)
        p = out_dir / f"mos_distribution_{safe}.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths


def _json_clean(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_clean(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- CLI
def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="mos_command", metavar="{prepare,page,aggregate}")
    sub.required = True
    p = sub.add_parser("prepare", help="build a blinded study folder",
                       description="Build a blinded MOS study: SR outputs of every method plus NN and HR "
                                   "under opaque ids, one rating page per rater, and manifest.json for the analyst.")
    p.add_argument("--dataset", required=True, help="comma-separated datasets (names under $SRGAN_DATA_DIR or folders)")
    p.add_argument("--methods", required=True,
                   help="comma-separated method specs: nearest, bicubic, a preset, a run dir or weights file "
                        "(LABEL=SPEC to name it); NN and HR are always added")
    p.add_argument("--out", required=True, help="study folder to create")
    p.add_argument("--raters", type=int, default=5, help="number of rater pages to write (r01..rNN; default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the item ids and of each rater's order")
    p.add_argument("--calibration", type=int, default=20,
                   help="calibration examples (NN = 1, HR = 5) before the study (default 20, as in the paper)")
    p.add_argument("--calibration-dataset", default=None,
                   help="images for calibration (default: the first dataset; the paper used separate images)")
    p.add_argument("--crop", type=int, nargs="?", const=256, default=None, metavar="SIZE",
                   help="centre-crop every version to SIZE x SIZE (default 256 when given without SIZE)")
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--embed", choices=["auto", "yes", "no"], default="auto",
                   help="embed images in the pages (single file) or reference items/ (default: auto, < 25 MB)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing study folder")

    g = sub.add_parser("page", help="write the rating page of one more rater",
                       description="Write STUDY_DIR/rater/rate_RATER.html for another rater id.")
    g.add_argument("study_dir")
    g.add_argument("rater_id")
    g.add_argument("--embed", choices=["auto", "yes", "no"], default="auto")
    g.add_argument("--overwrite", action="store_true")

    a = sub.add_parser("aggregate", help="MOS, confidence intervals, tests and plots from rating files",
                       description="Validate rating files and report MOS per method and dataset with 95% "
                                   "confidence intervals (t over per-rater means), rater calibration checks, "
                                   "Wilcoxon signed-rank tests with Holm correction and rating distributions.")
    a.add_argument("study_dir")
    a.add_argument("ratings", nargs="+", help="rating files (JSON), e.g. ratings/*.json")
    a.add_argument("--exclude-flagged", action="store_true",
                   help="leave out raters who do not rate HR above NN on average")
    fmt = a.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="markdown tables")
    fmt.add_argument("--json", action="store_true", help="the full report as JSON")
    a.add_argument("--plots", metavar="DIR", help="save rating-distribution plots (paper Fig. 5 style) here")


def main(args) -> int:
    import sys
    if args.mos_command == "prepare":
        prepare_study(args.dataset, args.methods, args.out, raters=args.raters, seed=args.seed,
                      calibration=args.calibration, calibration_dataset=args.calibration_dataset,
                      crop=args.crop, scale=args.scale, embed=args.embed, overwrite=args.overwrite,
                      progress=lambda m: print(m, file=sys.stderr))
        print(Path(args.out) / "rater")
        return 0
    if args.mos_command == "page":
        embed = None if args.embed == "auto" else args.embed == "yes"
        print(write_rater_page(args.study_dir, args.rater_id, embed=embed, overwrite=args.overwrite))
        return 0
    report = aggregate(args.study_dir, args.ratings, exclude_flagged=args.exclude_flagged)
    if args.plots:
        for p in plot_distributions(report, args.plots):
            print(f"wrote {p}", file=sys.stderr)
    for n in report["notes"]:
        print(f"srgan mos: {n}", file=sys.stderr)
    if args.json:
        print(json.dumps(_json_clean(report), indent=1))
    else:
        print(format_report(report, markdown=args.markdown), end="")
    return 0
