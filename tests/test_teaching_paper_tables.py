"""Tests for srgan_lib.teaching.paper_tables: the paper's Table 1 and Table 2 as data (consistency
between the tables, the facts the book states about them) and the tables beside our results."""
import json
import math

import pytest

from srgan_lib.errors import UserError
from srgan_lib.teaching import paper_tables as pt


def test_the_two_tables_agree_where_they_overlap():
    for variant in ("srresnet-mse", "srgan-vgg54"):
        for ds in ("Set5", "Set14"):
            assert pt.TABLE1[variant][ds] == pt.TABLE2[variant][ds]


def test_table1_best_psnr_is_not_best_mos():
    """Sec. 3.4: among the five variants the MSE-trained SRResNet has the best PSNR and SSIM but the
    lowest MOS; on Set14 SRGAN-VGG54 has the best MOS, marked significant, as is SRResNet-VGG22 in
    its category."""
    for ds in ("Set5", "Set14"):
        rows = {v: pt.TABLE1[v][ds] for v in pt.TABLE1_VARIANTS}
        assert max(rows, key=lambda v: rows[v]["psnr"]) == "srresnet-mse"
        assert max(rows, key=lambda v: rows[v]["ssim"]) == "srresnet-mse"
        assert min(rows, key=lambda v: rows[v]["mos"]) == "srresnet-mse"
    set14 = {v: pt.TABLE1[v]["Set14"]["mos"] for v in pt.TABLE1_VARIANTS}
    assert max(set14, key=set14.get) == "srgan-vgg54"
    assert pt.TABLE1_SIGNIFICANT == {("Set14", "srresnet-vgg22"), ("Set14", "srgan-vgg54")}
    assert set14["srresnet-vgg22"] > set14["srresnet-mse"]


def test_table2_inversion_on_every_dataset():
    for ds in pt.DATASETS:
        sr = [m for m in pt.TABLE2_METHODS if m != "hr"]
        assert max(sr, key=lambda m: pt.TABLE2[m][ds]["psnr"]) == "srresnet-mse"
        assert max(sr, key=lambda m: pt.TABLE2[m][ds]["mos"]) == "srgan-vgg54"
        assert min(pt.TABLE2_METHODS, key=lambda m: pt.TABLE2[m][ds]["mos"]) == "nearest"
        assert math.isinf(pt.TABLE2["hr"][ds]["psnr"]) and pt.TABLE2["hr"][ds]["ssim"] == 1.0
        assert pt.TABLE2["srgan-vgg54"][ds]["psnr"] < pt.TABLE2["srcnn"][ds]["psnr"]
    assert pt.TABLE2["bicubic"]["Set5"] == {"psnr": 28.43, "ssim": 0.8211, "mos": 1.97}
    assert pt.TABLE2["srgan-vgg54"]["BSD100"] == {"psnr": 25.16, "ssim": 0.6688, "mos": 3.56}


def test_paper_value_and_means():
    assert pt.paper_value("srgan-mse", "Set14", "mos") == 3.43  # Table 1 only
    assert pt.paper_value("espcn", "BSD100", "psnr") == 27.02   # Table 2 only
    assert pt.paper_means("Set14", ["nearest", "srgan-vgg54", "hr"]) == {"nearest": 1.20, "srgan-vgg54": 3.72,
                                                                         "hr": 4.32}
    with pytest.raises(UserError, match="no mos for 'srgan-mse' on 'BSD100'"):
        pt.paper_value("srgan-mse", "BSD100", "mos")
    with pytest.raises(UserError, match="key must be"):
        pt.paper_value("bicubic", "Set5", "lpips")


def test_markdown_tables_mark_only_the_significant_cells():
    t1 = pt.table1_markdown()
    assert t1.count("*") == 2 and "| 2.98 | 3.15* |" in t1 and "3.72* |" in t1
    assert "| Set5 PSNR | 32.05 | 30.51 | 30.64 | 29.84 | 29.40 |" in t1
    t2 = pt.table2_markdown()
    assert len(t2.splitlines()) == 2 + 9 and "∞" in t2 and "| BSD100 MOS | 1.11 |" in t2
    assert pt.table2_markdown(["Set5"], ["bicubic", "hr"]).splitlines()[0] == "| x4 | bicubic | HR |"


def test_beside_paper_puts_each_measured_row_above_the_papers():
    results = [{"dataset": "Set5", "model": "bicubic", "n": 5, "psnr": 28.4314, "ssim": 0.81127, "vgg54": 0.1336},
               {"dataset": "Set5", "model": "srgan-vgg54", "n": 5, "psnr": 27.635, "ssim": 0.8003},
               {"dataset": "Set14", "model": "bicubic", "n": 14, "psnr": 25.997, "ssim": 0.7031}]
    md = pt.beside_paper(results, methods=("bicubic", "srgan-vgg54"))
    lines = md.splitlines()
    assert "Set5 (5 images)" in lines[0] and "Set14 (14 images)" in lines[0] and "BSD100" not in lines[0]
    assert lines[2] == "| bicubic | ours | 28.43 / 0.8113 / 0.134 / – | 26.00 / 0.7031 / – / – |"
    assert lines[3] == "| SRGAN-VGG54 | ours | 27.64 / 0.8003 / – / – | – |"
    assert lines[4] == "| bicubic | paper | 28.43 / 0.8211 / – / 1.97 | 25.99 / 0.7486 / – / 1.80 |"
    assert lines[5] == "| SRGAN-VGG54 | paper | 29.40 / 0.8472 / – / 3.58 | 26.02 / 0.7397 / – / 3.72* |"
    with pytest.raises(UserError, match="no results"):
        pt.beside_paper([{"dataset": "mine", "model": "bicubic", "n": 1, "psnr": 1.0, "ssim": 0.1}])


def test_beside_paper_reads_the_shipped_evaluation():
    from srgan_lib import weights
    path = weights.shipped_dir() / "evaluation_x4.json"
    md = pt.beside_paper(json.loads(path.read_text()))
    assert md.count("| ours |") == 4 and md.count("| paper |") == 4 and "BSD100 (100 images)" in md
