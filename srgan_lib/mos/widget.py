"""The notebook rater: an ipywidgets version of the rating page that saves every rating at once."""
from __future__ import annotations

from pathlib import Path

from srgan_lib.atomic import make_dir
from srgan_lib.errors import UserError
from srgan_lib.mos.files import (FORMAT_VERSION, RATINGS_FORMAT, SCORE_LABELS, check_rater_id, load_manifest,
                                 load_public, now, public_dir, rater_token, read_json, write_json)
from srgan_lib.mos.ratings import MAX_RATINGS_BYTES
from srgan_lib.mos.sequence import rater_sequence


class Rater:
    """An ipywidgets rater for notebooks: ``mos.Rater("study", "alice")`` then display it.

    Shows one image at a time with buttons 1-5 (or type a digit 1-5 into the key box),
    a progress bar, and saves every rating at once (atomic JSON write) to
    ``STUDY_DIR/ratings/<rater_id>.json``, so a kernel restart loses nothing; a new
    ``Rater`` for the same id resumes after the last rated image.  Calibration
    examples (NN = 1, HR = 5) come first and are acknowledged with "Next".
    """

    def __init__(self, study_dir, rater_id: str, token: str | None = None):
        try:
            import ipywidgets as w
        except ImportError:
            raise ImportError("mos.Rater needs ipywidgets: pip install 'srgan-lib[book]'") from None

        check_rater_id(rater_id)
        self.study_dir = Path(study_dir)
        self.public_dir = public_dir(study_dir)
        self.public = load_public(study_dir)
        self.rater_id = rater_id
        if token is None and (self.study_dir / "manifest.json").is_file():
            token = rater_token(load_manifest(self.study_dir), rater_id)
        self.token = token
        self.calibration, self.items = rater_sequence(self.public, rater_id)
        root = self.public_dir.parent if self.public_dir.name == "rater" else self.public_dir
        self.ratings_path = make_dir(root / "ratings") / f"{rater_id}.json"
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
        data = read_json(self.ratings_path, max_bytes=MAX_RATINGS_BYTES, what="MOS ratings file")
        if not isinstance(data, dict) or data.get("study_id") != self.public["study_id"] \
                or data.get("rater_id") != self.rater_id:
            raise UserError(f"{self.ratings_path} belongs to another study or rater; refusing to overwrite it")
        known = set(self.items)
        ratings = data.get("ratings", [])
        self.ratings = [r for r in ratings if isinstance(r, dict) and isinstance(r.get("item"), str)
                        and r["item"] in known] if isinstance(ratings, list) else []
        self.calibrated = data.get("calibrated") is True or bool(self.ratings)

    def _save(self) -> None:
        write_json(self.ratings_path, {
            "format": RATINGS_FORMAT, "version": FORMAT_VERSION, "study_id": self.public["study_id"],
            "rater_id": self.rater_id, "client": "notebook", "calibrated": self.calibrated,
            "ratings": self.ratings, **({"rater_token": self.token} if self.token else {}),
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
        if isinstance(score, bool) or score not in (1, 2, 3, 4, 5):
            raise UserError(f"score must be 1..5, got {score!r}")
        if self.in_calibration:
            self.status.value = "calibration example: press Next"
            return
        item = self.current
        if item is None:
            self.status.value = "all images are rated - thank you"
            return
        self.ratings.append({"item": item, "score": int(score), "time": now()})
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
