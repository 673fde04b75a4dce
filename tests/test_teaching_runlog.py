"""srgan_lib.teaching.runlog: reading log.csv / val.csv (chapter 5)."""
import numpy as np
import pytest

from srgan_lib.teaching import runlog

HEADER = "step,time,content_loss,adv_loss,g_loss,d_loss,d_real,d_fake,d_acc,lr\n"


def _write(path, accs, time0=0.0):
    rows = [f"{10 * (i + 1)},{time0 + i:.3f},0.1,{2 + i},{0.1 + 1e-3 * (2 + i)},1.0,0.9,0.1,{a},0.0001"
            for i, a in enumerate(accs)]
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def test_read_and_compare_ignore_the_clock(tmp_path):
    a = runlog.read_log(_write(tmp_path / "a.csv", [0.5, 1.0], time0=0))
    b = runlog.read_log(_write(tmp_path / "b.csv", [0.5, 1.0], time0=7))
    assert list(a["step"]) == [10, 20] and a["d_acc"][1] == 1.0
    same = runlog.compare_logs(a, b)
    assert same["identical"] and same["same_steps"] and same["rows"] == (2, 2)
    c = runlog.read_log(_write(tmp_path / "c.csv", [0.5, 0.9]))
    diff = runlog.compare_logs(a, c)
    assert not diff["identical"] and diff["differing"] == ["d_acc"]
    assert diff["max_abs_diff"] == pytest.approx(0.1)
    assert not runlog.compare_logs(a, runlog.read_log(_write(tmp_path / "d.csv", [0.5])))["identical"]


def test_val_with_text_column(tmp_path):
    (tmp_path / "val.csv").write_text("step,dataset,psnr,ssim\n5,Set5,20.5,0.6\n")
    val = runlog.read_val(tmp_path)
    assert val["dataset"][0] == "Set5" and val["psnr"][0] == 20.5
    assert runlog.compare_logs(val, runlog.read_val(tmp_path / "val.csv"))["identical"]
    assert runlog.read_val(tmp_path / "nothing") == {}


def test_dominance_starts_at_the_first_good_block(tmp_path):
    log = runlog.read_log(_write(tmp_path / "a.csv", [0.5, 0.99, 0.8, 0.98, 1.0, 0.97]))
    d = runlog.discriminator_dominance(log, threshold=0.97, window=1)
    assert d["step"] == 20 and d["blocks_after"] == (4, 5)
    assert d["share_after"] == pytest.approx(4 / 5) and d["share_all"] == pytest.approx(4 / 6)
    assert d["adv_share_first"] == pytest.approx(2e-3 / 0.102)
    # blocks of 3 rows: medians 0.8 and 0.98 -> from the second block (step 40) on
    d3 = runlog.discriminator_dominance(log, threshold=0.97, window=3)
    assert d3["step"] == 40 and d3["blocks_after"] == (1, 1)
    assert d3["mean_acc_after"] == pytest.approx((0.98 + 1 + 0.97) / 3)
    # a single dip inside a block does not spoil its median
    dip = runlog.read_log(_write(tmp_path / "dip.csv", [0.5, 0.6, 1.0, 0.5, 1.0, 1.0]))
    assert runlog.discriminator_dominance(dip, window=3)["step"] == 40
    never = runlog.discriminator_dominance(runlog.read_log(_write(tmp_path / "b.csv", [0.5, 0.6])),
                                           window=1)
    assert never["step"] is None and never["share_after"] is None and never["blocks_after"] is None


def test_shipped_run_and_figure():
    import matplotlib

    matplotlib.use("Agg")
    folder = runlog.shipped_run("srgan-vgg54")
    log, val = runlog.read_log(folder), runlog.read_val(folder)
    assert np.all(np.diff(log["step"]) > 0) and len(val["step"]) >= 1
    fig = runlog.log_figure(log, val, title="x", mark_step=3000, reference_psnr=30.0)
    assert len(fig.axes) == 4
    with pytest.raises(Exception):
        runlog.shipped_run("no-such-model")
