"""srgan_lib.data: registry, download cache (against a local HTTP server), checks of every
downloaded file, safe extraction, training-image loading and the ``srgan data`` command.
No test uses the internet."""
import collections
import hashlib
import io
import shutil
import tarfile
import threading
import warnings
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_lib import cli, data
from srgan_lib.data import DataWarning, Dataset, Source
from srgan_lib.data import download as download_module
from srgan_lib.errors import InputNotFoundError, OutputError, OutputExistsError, UserError


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


class LocalServer:
    """http.server on 127.0.0.1 (ephemeral port) serving in-memory files.

    Paths in ``truncate_first`` get a full Content-Length but only half the body on their
    first request (then the connection is closed); later requests get the whole file."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.truncate_first: set[str] = set()
        self.hits = collections.Counter()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                srv.hits[path] += 1
                body = srv.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if path in srv.truncate_first and srv.hits[path] == 1:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.running = False


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.stop()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    c = tmp_path / "cache"
    monkeypatch.setenv("SRGAN_DATA_DIR", str(c))
    monkeypatch.setattr(download_module, "RETRY_DELAY_S", 0.0)
    return c


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def register(monkeypatch, name, *sources, manifest=None, images=5):
    ds = Dataset(name, "test", images, tuple(sources), "Test et al.", "Test et al. 2024", "none",
                 f"{name}/HR/*.png", "test entry", manifest=dict(manifest or {}))
    monkeypatch.setitem(data.DATASETS, name, ds)
    return ds


def set5_files(data_dir) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data_dir / "Set5" / "HR").glob("*.png"))}


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def set5_manifest(data_dir) -> dict[str, str]:
    return data.read_sha256sums(data_dir / "Set5" / "SHA256SUMS")


# ----------------------------------------------------------------------------- registry

def test_registry_covers_the_standard_sets():
    for name in ["Set5", "Set14", "BSD100", "Urban100", "DIV2K", "DIV2K-valid", "T91", "BSD200",
                 "General100"]:
        ds = data.get_dataset(name)
        assert ds.sources and ds.citation and ds.licence and ds.layout and ds.hash_note
        for src in ds.sources:
            assert all(u.startswith(("http://", "https://")) for u in src.urls)
            if src.kind == "files":  # file lists come from the manifest
                assert len(ds.manifest) == ds.images
            if src.per_file_sha256:
                assert all(len(h) == 64 for h in ds.manifest.values())
    assert data.get_dataset("set14").name == "Set14"
    with pytest.raises(UserError, match="known: Set5"):
        data.get_dataset("Set6")


def test_registry_is_a_data_file_and_every_file_is_checked():
    """The registry is datasets.json; every source's files are covered by a hash, or else by the
    decode check (files sources list their files in the manifest, so the count is known too)."""
    import json

    entries = json.loads((Path(data.__file__).with_name("datasets.json")).read_text())["datasets"]
    assert [e["name"] for e in entries] == list(data.DATASETS)
    for ds in data.DATASETS.values():
        for src in ds.sources:
            if src.kind == "files":
                assert len(ds.manifest) == ds.images, ds.name
            if not src.hashes_known:  # T91, BSD200, General100: decoded instead, and the note says so
                assert "decode as an image" in ds.hash_note, ds.name
    assert {d.name for d in data.DATASETS.values() if not all(s.hashes_known for s in d.sources)} == {
        "T91", "BSD200", "General100"}


def test_shipped_manifests_equal_the_reference_sha256sums(data_dir):
    for name in ["Set5", "Set14", "BSD100", "T91", "BSD200", "General100"]:
        assert data.get_dataset(name).manifest == data.read_sha256sums(data_dir / name / "SHA256SUMS"), name


# ----------------------------------------------------------------------------- resolve / cache

def test_resolve_local_folder_and_hr_subfolder(data_dir):
    files = data.resolve_dataset(data_dir / "Set5")
    assert [f.name for f in files] == ["baby.png", "bird.png", "butterfly.png", "head.png", "woman.png"]
    assert data.resolve_dataset(str(data_dir / "T91"))[0].parent == data_dir / "T91"


def test_resolve_names_from_the_cache_without_network(data_dir, monkeypatch):
    import keras

    def no_network(*a, **k):
        raise AssertionError("network used")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    monkeypatch.setenv("SRGAN_DATA_DIR", str(data_dir))
    assert len(data.resolve_dataset("Set5")) == 5
    assert len(data.resolve_dataset("set14")) == 14
    assert len(data.resolve_dataset("T91")) == 91


def test_resolve_unregistered_name_in_the_cache(cache, rng):
    (cache / "MySet").mkdir(parents=True)
    for i in range(2):
        _png(cache / "MySet" / f"{i}.png", Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)))
    assert [f.name for f in data.resolve_dataset("MySet")] == ["0.png", "1.png"]


def test_resolve_errors(tmp_path, cache):
    with pytest.raises(InputNotFoundError, match="neither a folder nor a known dataset"):
        data.resolve_dataset("NoSuchSet")
    with pytest.raises(InputNotFoundError, match="folder not found"):
        data.resolve_dataset(str(tmp_path / "missing" / "dir"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no image files .*empty"):
        data.resolve_dataset(tmp_path / "empty")
    (tmp_path / "a.png").write_bytes(b"x")
    with pytest.raises(UserError, match="got a file"):
        data.resolve_dataset(tmp_path / "a.png")
    with pytest.raises(InputNotFoundError, match="not in the cache"):
        data.resolve_dataset("Urban100", download=False)


# ----------------------------------------------------------------------------- download

def test_download_zip_extract_hash_match(data_dir, server, cache, monkeypatch):
    pngs = set5_files(data_dir)
    archive = zip_bytes({f"Set5_HR/{n}": b for n, b in pngs.items()})
    server.files["/Set5_HR.zip"] = archive
    register(monkeypatch, "TestSet5", Source((f"{server.url}/Set5_HR.zip",), "zip", "HR",
                                             sha256=sha256(archive), members="Set5_HR", check_manifest=True),
             manifest=set5_manifest(data_dir))
    files = data.resolve_dataset("TestSet5")
    assert [f.name for f in files] == sorted(pngs)
    assert all(f.parent == cache / "TestSet5" / "HR" for f in files)
    assert all(f.read_bytes() == pngs[f.name] for f in files)
    # only the dataset folder is left in the cache: no archive, no staging folder
    assert sorted(p.name for p in cache.iterdir()) == ["TestSet5"]
    assert files_under(cache) == files


def test_download_hash_mismatch_leaves_nothing(data_dir, server, cache, monkeypatch):
    archive = zip_bytes({f"Set5_HR/{n}": b for n, b in set5_files(data_dir).items()})
    server.files["/Set5_HR.zip"] = archive
    wrong = "0" * 64
    register(monkeypatch, "TestSet5", Source((f"{server.url}/Set5_HR.zip",), "zip", "HR",
                                             sha256=wrong, members="Set5_HR"))
    with pytest.raises(UserError) as err:
        data.resolve_dataset("TestSet5")
    msg = str(err.value)
    assert "Set5_HR.zip" in msg and wrong in msg and sha256(archive) in msg
    assert files_under(cache) == []
    assert not (cache / "TestSet5").exists()


def test_interrupted_download_is_retried_cleanly(data_dir, server, cache, monkeypatch):
    pngs = set5_files(data_dir)
    archive = zip_bytes({f"Set5_HR/{n}": b for n, b in pngs.items()})
    server.files["/Set5_HR.zip"] = archive
    server.truncate_first.add("/Set5_HR.zip")
    register(monkeypatch, "TestSet5", Source((f"{server.url}/Set5_HR.zip",), "zip", "HR",
                                             sha256=sha256(archive), members="Set5_HR"))
    files = data.resolve_dataset("TestSet5")
    assert server.hits["/Set5_HR.zip"] == 2
    manifest = set5_manifest(data_dir)
    assert {f"HR/{f.name}": sha256(f.read_bytes()) for f in files} == manifest
    assert data.verify_dataset("TestSet5", manifest=manifest).ok


def test_interrupted_download_without_hash_is_not_kept(data_dir, server, cache, monkeypatch):
    """A truncated transfer is an error even when no hash is known; a broken one gives up."""
    archive = zip_bytes({f"Set5_HR/{n}": b for n, b in set5_files(data_dir).items()})
    server.files["/a.zip"] = archive
    server.truncate_first.add("/a.zip")
    register(monkeypatch, "TestA", Source((f"{server.url}/a.zip",), "zip", "HR", members="Set5_HR"))
    files = data.resolve_dataset("TestA")
    assert server.hits["/a.zip"] == 2 and len(files) == 5
    register(monkeypatch, "TestGone", Source((f"{server.url}/gone.zip",), "zip", "HR"))
    with pytest.raises(InputNotFoundError, match="gone.zip after 2 tries"):
        data.download_dataset("TestGone", retries=2)
    assert server.hits["/gone.zip"] == 2
    assert not (cache / "TestGone").exists()
    assert [p.name for p in cache.iterdir()] == ["TestA"]


def test_cache_hit_with_server_stopped(data_dir, server, cache, monkeypatch):
    import keras

    archive = zip_bytes({f"Set5_HR/{n}": b for n, b in set5_files(data_dir).items()})
    server.files["/Set5_HR.zip"] = archive
    register(monkeypatch, "TestSet5", Source((f"{server.url}/Set5_HR.zip",), "zip", "HR",
                                             sha256=sha256(archive), members="Set5_HR"))
    first = data.resolve_dataset("TestSet5")
    server.stop()

    def no_network(*a, **k):
        raise AssertionError("network used")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    assert data.resolve_dataset("TestSet5") == first
    assert data.download_dataset("TestSet5") == cache / "TestSet5"
    assert server.hits["/Set5_HR.zip"] == 1


def test_files_source_per_file_sha256(data_dir, server, cache, monkeypatch):
    pngs = set5_files(data_dir)
    for n, b in pngs.items():
        server.files[f"/raw/{n}"] = b
    src = Source((f"{server.url}/raw/{{stem}}.png",), "files", "HR", per_file_sha256=True)
    register(monkeypatch, "TestFiles", src, manifest=set5_manifest(data_dir))
    files = data.resolve_dataset("TestFiles")
    assert [f.name for f in files] == sorted(pngs)
    # a server holding one corrupted file: error naming it, nothing left in the cache
    shutil.rmtree(cache)
    server.files["/raw/head.png"] = pngs["head.png"][:-10] + b"0123456789"
    with pytest.raises(UserError, match=r"sha256 mismatch for head\.png.*expected "
                                         + set5_manifest(data_dir)["HR/head.png"]):
        data.resolve_dataset("TestFiles")
    assert files_under(cache) == []


def test_files_without_hash_must_decode_as_images(data_dir, server, cache, monkeypatch):
    """No hash of the bytes is known (T91, BSD200, General100): a server answering with an HTML
    page for one file gets the download refused, naming the file; nothing is cached."""
    pngs = set5_files(data_dir)
    for n, b in pngs.items():
        server.files[f"/raw/{n}"] = b
    register(monkeypatch, "TestNoHash", Source((f"{server.url}/raw/{{stem}}.png",), "files", "HR"),
             manifest=set5_manifest(data_dir))
    assert [f.read_bytes() for f in data.resolve_dataset("TestNoHash")] == [pngs[n] for n in sorted(pngs)]
    other = cache.parent / "other"
    server.files["/raw/bird.png"] = b"<html><body>429 Too Many Requests</body></html>"
    with pytest.raises(UserError, match=r"TestNoHash: bird\.png downloaded from .*/raw/bird\.png is not an image"):
        data.download_dataset("TestNoHash", cache_dir=other)
    assert files_under(other) == []


def test_archive_without_hash_is_decoded_and_counted(data_dir, server, cache, monkeypatch):
    pngs = set5_files(data_dir)
    bad = dict(pngs, **{"notes.png": b"<!DOCTYPE html> not found"})
    server.files["/bad.zip"] = zip_bytes({f"S/{n}": b for n, b in bad.items()})
    register(monkeypatch, "TestBad", Source((f"{server.url}/bad.zip",), "zip", "HR", members="S"), images=6)
    with pytest.raises(UserError, match=r"notes\.png .* is not an image"):
        data.download_dataset("TestBad")
    # the expected number of images is checked too (a hash-checked archive of 5 where 6 are registered)
    archive = zip_bytes({f"S/{n}": b for n, b in pngs.items()})
    server.files["/five.zip"] = archive
    register(monkeypatch, "TestFew", Source((f"{server.url}/five.zip",), "zip", "HR", sha256=sha256(archive),
                                            members="S"), images=6)
    with pytest.raises(UserError, match="holds 5 images, the registry expects 6"):
        data.download_dataset("TestFew")
    assert files_under(cache) == []


def test_download_of_a_cached_set_is_a_no_op(data_dir, server, cache, monkeypatch, capsys):
    """`srgan data download` of a cached set uses no network; a cached folder with another number
    of images is reported (and replaced only with --force)."""
    import keras

    for n, b in set5_files(data_dir).items():
        server.files[f"/raw/{n}"] = b
    register(monkeypatch, "TestFiles", Source((f"{server.url}/raw/{{stem}}.png",), "files", "HR",
                                              per_file_sha256=True), manifest=set5_manifest(data_dir))
    folder = data.download_dataset("TestFiles")
    hits = sum(server.hits.values())
    assert hits == 5
    real_get_file = keras.utils.get_file

    def no_network(*a, **k):
        raise AssertionError("network used")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    assert cli.main(["data", "download", "TestFiles"]) == 0
    assert "TestFiles: 5 images" in capsys.readouterr().out
    (folder / "HR" / "bird.png").unlink()
    with pytest.raises(OutputExistsError, match="holds 4 images, not the 5 of TestFiles"):
        data.download_dataset("TestFiles")
    monkeypatch.setattr(keras.utils, "get_file", real_get_file)
    assert data.download_dataset("TestFiles", force=True) == folder
    assert len(data.dataset_images(folder)) == 5 and sum(server.hits.values()) == hits + 5


# ----------------------------------------------------------------------------- safe extraction

def _tar_bytes(add) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        add(tf)
    return buf.getvalue()


def _tar_file(tf, name, body=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(body)
    tf.addfile(info, io.BytesIO(body))


def _tar_symlink(tf, name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tf.addfile(info)


def test_zip_slip_archive_is_refused(data_dir, server, cache, monkeypatch, tmp_path):
    pngs = set5_files(data_dir)
    archive = zip_bytes({"Set5_HR/baby.png": pngs["baby.png"], "../../evil.png": b"pwned"})
    server.files["/evil.zip"] = archive
    register(monkeypatch, "TestEvil", Source((f"{server.url}/evil.zip",), "zip", "HR",
                                             sha256=sha256(archive), members="Set5_HR"))
    with pytest.raises(UserError, match=r"refusing to extract .*'\.\./\.\./evil\.png'"):
        data.resolve_dataset("TestEvil")
    assert files_under(cache) == []
    assert not list(tmp_path.rglob("evil.png"))


@pytest.mark.parametrize("case", ["zip-absolute", "zip-symlink", "tar-dotdot", "tar-absolute",
                                  "tar-symlink-out", "tar-hardlink"])
def test_unsafe_members_are_refused(tmp_path, case):
    archive = tmp_path / "a.bin"
    if case == "zip-absolute":
        archive.write_bytes(zip_bytes({"ok.png": b"x", "/etc/evil.png": b"x"}))
    elif case == "zip-symlink":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            info = zipfile.ZipInfo("link.png")
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
        archive.write_bytes(buf.getvalue())
    elif case == "tar-dotdot":
        archive.write_bytes(_tar_bytes(lambda tf: _tar_file(tf, "d/../../evil.png")))
    elif case == "tar-absolute":
        archive.write_bytes(_tar_bytes(lambda tf: _tar_file(tf, "/tmp/evil.png")))
    elif case == "tar-symlink-out":
        archive.write_bytes(_tar_bytes(lambda tf: _tar_symlink(tf, "link", "/etc")))
    elif case == "tar-hardlink":
        def add(tf):
            _tar_file(tf, "a.png")
            info = tarfile.TarInfo("b.png")
            info.type = tarfile.LNKTYPE
            info.linkname = "a.png"
            tf.addfile(info)
        archive.write_bytes(_tar_bytes(add))
    out = tmp_path / "out"
    with pytest.raises(UserError, match="refusing to extract"):
        data.safe_extract(archive, out)
    assert files_under(out) == []


def test_safe_extract_accepts_a_normal_tar(tmp_path):
    archive = tmp_path / "ok.tar.gz"
    archive.write_bytes(_tar_bytes(lambda tf: (_tar_file(tf, "X_HR/a.png", b"1"), _tar_file(tf, "X_HR/b.png", b"2"))))
    data.safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "X_HR" / "b.png").read_bytes() == b"2"


# ----------------------------------------------------------------------------- training images

def _png(path: Path, img: Image.Image):
    img.save(path, format="PNG")
    return path


@pytest.fixture
def mixed_folder(tmp_path, rng):
    d = tmp_path / "mixed"
    d.mkdir()
    rgb = rng.integers(0, 256, (100, 128, 3), dtype=np.uint8)
    _png(d / "good.png", Image.fromarray(rgb))
    _png(d / "gray.png", Image.fromarray(rgb[:, :, 0]))
    _png(d / "rgba.png", Image.fromarray(np.dstack([rgb, rgb[:, :, :1]])))
    _png(d / "palette.png", Image.fromarray(rgb).convert("P"))
    _png(d / "sixteen.png", Image.fromarray(rng.integers(0, 65536, (120, 96), dtype=np.uint16)))
    _png(d / "tiny.png", Image.fromarray(rgb[:10, :10]))
    full = (d / "good.png").read_bytes()
    (d / "truncated.png").write_bytes(full[: len(full) // 2])
    (d / "text.png").write_text("this is not an image\n")
    (d / "notes.txt").write_text("ignored: not an image extension\n")
    assert Image.open(d / "sixteen.png").mode.startswith("I")
    return d


def _load(*args, **kwargs):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        images = data.load_training_images(*args, **kwargs)
    return images, [str(w.message) for w in rec if issubclass(w.category, DataWarning)]


def test_load_training_images_skips_bad_files_with_one_warning_each(mixed_folder):
    images, warns = _load(mixed_folder)
    assert len(images) == 5
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in images)
    assert len(warns) == 3
    for bad in ["truncated.png", "text.png", "tiny.png"]:
        assert sum(bad in w for w in warns) == 1, (bad, warns)
    assert any("10x10 is smaller than min_size=96" in w for w in warns)
    # min_size applies to either dimension: sixteen.png is 96 wide, 120 high
    images, warns = _load(mixed_folder, min_size=97)
    assert len(images) == 4 and len(warns) == 4
    assert any("sixteen.png" in w and "96x120" in w for w in warns)


def test_load_training_images_concatenates(mixed_folder, tmp_path, rng):
    other = tmp_path / "other"
    other.mkdir()
    for i in range(3):
        _png(other / f"{i}.png", Image.fromarray(rng.integers(0, 256, (96, 97, 3), dtype=np.uint8)))
    images, _ = _load(f"{mixed_folder},{other}")
    assert len(images) == 8
    images, _ = _load([other, str(other)])
    assert len(images) == 6


def test_load_training_images_all_bad_folder_is_an_error(tmp_path, rng):
    d = tmp_path / "allbad"
    d.mkdir()
    (d / "a.png").write_text("nope")
    _png(d / "small.png", Image.fromarray(rng.integers(0, 256, (50, 200, 3), dtype=np.uint8)))
    with pytest.raises(UserError, match=r"no usable training image in .*allbad"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data.load_training_images(d)
    (tmp_path / "nothing").mkdir()
    with pytest.raises(UserError, match=r"no image files .*nothing"):
        data.load_training_images(tmp_path / "nothing")


def test_load_training_images_by_name_from_the_cache(data_dir, monkeypatch):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(data_dir))
    sizes = {p.name: Image.open(p).size for p in (data_dir / "T91").glob("*.png")}
    small = {n for n, (w, h) in sizes.items() if min(w, h) < 96}
    assert small  # T91 has images from 78 px
    images, warns = _load("T91")
    assert len(images) == len(sizes) - len(small)
    assert len(warns) == len(small) and all(any(n in w for w in warns) for n in small)


# ----------------------------------------------------------------------------- CLI

def test_cli_list_and_verify(data_dir, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SRGAN_DATA_DIR", str(data_dir))
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert rows["Set5"].split()[1:4] == ["test", "5", "yes"] and "Bevilacqua" in rows["Set5"]
    assert rows["DIV2K"].split()[1:4] == ["train", "800", "no"]
    assert cli.main(["data", "verify", "Set5"]) == 0
    assert "5/5 files OK" in capsys.readouterr().out
    # a tampered copy fails, naming the file
    copy = tmp_path / "Set5"
    shutil.copytree(data_dir / "Set5", copy)
    with open(copy / "HR" / "bird.png", "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    (copy / "HR" / "head.png").unlink()
    assert cli.main(["data", "verify", str(copy), "--manifest", str(data_dir / "Set5" / "SHA256SUMS")]) == 1
    out = capsys.readouterr().out
    assert "sha256 differs: HR/bird.png" in out and "missing: HR/head.png" in out
    assert cli.main(["data", "verify", str(copy)]) == 1  # folder named Set5 -> Set5 manifest
    capsys.readouterr()
    assert cli.main(["data", "verify", "Urban100"]) == 2  # no manifest known
    assert "no per-file manifest" in capsys.readouterr().err
    assert cli.main(["data", "verify", str(tmp_path)]) == 2  # a folder of no known set, no --manifest
    assert "give --manifest" in capsys.readouterr().err


def test_cli_download(data_dir, server, cache, monkeypatch, capsys):
    archive = zip_bytes({f"Set5_HR/{n}": b for n, b in set5_files(data_dir).items()})
    server.files["/Set5_HR.zip"] = archive
    register(monkeypatch, "TestSet5", Source((f"{server.url}/Set5_HR.zip",), "zip", "HR",
                                             sha256=sha256(archive), members="Set5_HR"))
    target = cache.parent / "elsewhere"
    assert cli.main(["data", "--data-dir", str(target), "download", "TestSet5"]) == 0
    assert "TestSet5: 5 images" in capsys.readouterr().out
    assert len(list((target / "TestSet5" / "HR").glob("*.png"))) == 5
    assert cli.main(["data", "download", "NoSuchSet"]) == 2
    assert "unknown dataset 'NoSuchSet'" in capsys.readouterr().err


def test_cli_download_errors_are_one_line(data_dir, server, cache, monkeypatch, capsys, tmp_path):
    """An unwritable cache (a path under a regular file: refused even for root) and a failed
    download are one-line errors with exit status 2; nothing is left behind."""
    for n, b in set5_files(data_dir).items():
        server.files[f"/raw/{n}"] = b
    register(monkeypatch, "TestFiles", Source((f"{server.url}/raw/{{stem}}.png",), "files", "HR",
                                              per_file_sha256=True), manifest=set5_manifest(data_dir))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert cli.main(["data", "--data-dir", str(blocker / "cache"), "download", "TestFiles"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("srgan data: error: cannot create the folder") and str(blocker) in err
    assert len(err.strip().splitlines()) == 1 and sum(server.hits.values()) == 0
    with pytest.raises(OutputError):
        data.download_dataset("TestFiles", cache_dir=blocker / "cache")
    register(monkeypatch, "TestGone", Source((f"{server.url}/gone/{{stem}}.png",), "files", "HR"),
             manifest=set5_manifest(data_dir))
    assert cli.main(["data", "download", "TestGone"]) == 2
    err = capsys.readouterr().err
    assert "could not download baby.png after 3 tries" in err and len(err.strip().splitlines()) == 1
    assert files_under(cache) == []


def test_cli_verify_errors(data_dir, cache, capsys, tmp_path):
    bad = tmp_path / "SUMS"
    bad.write_text("cb85956d68f708a1030c790d143cbcd108f5ac5988d3349180cdcb54dd80597d  HR/baby.png\nnot a line\n")
    assert cli.main(["data", "verify", str(data_dir / "Set5"), "--manifest", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 2 is not '<sha256> <file>'" in err and str(bad) in err and len(err.strip().splitlines()) == 1
    assert cli.main(["data", "verify", str(data_dir / "Set5"), "--manifest", str(tmp_path / "none")]) == 2
    assert "manifest file not found" in capsys.readouterr().err
    assert cli.main(["data", "verify", "Set5"]) == 2  # the (empty) cache has no Set5
    assert "not in the cache" in capsys.readouterr().err
