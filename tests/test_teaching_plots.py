"""srgan_lib.teaching.plots: figure helpers of the book (light checks)."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from srgan_lib.teaching import plots  # noqa: E402


def test_compare_images_axes_and_titles():
    import matplotlib.pyplot as plt

    imgs = [("a", np.zeros((8, 8, 3), np.uint8)), ("b", np.full((4, 4), 0.5)), ("c", np.full((8, 8, 3), 300.0))]
    fig = plots.compare_images(imgs)
    assert len(fig.axes) == 3 and [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    assert fig.axes[2].images[0].get_array().dtype == np.uint8  # floats clipped for display
    assert fig.axes[2].images[0].get_array().max() == 255
    plt.close(fig)
    fig = plots.compare_images(dict(imgs), ncols=2)  # 2x2 grid, the spare axis removed
    assert len(fig.axes) == 3
    plt.close(fig)
    with pytest.raises(ValueError):
        plots.compare_images([])
