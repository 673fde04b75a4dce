"""Mean-opinion-score (MOS) studies, as in Ledig et al. 2017, Sec. 3.4.

The paper asked 26 raters to score SR images from 1 (bad) to 5 (excellent); every image was
shown in 12 versions (NN, bicubic, ..., SRGAN-*, HR); raters were first calibrated on the NN
(score 1) and HR (score 5) versions of 20 images of the BSD300 training set; the paper reports
the MOS per method with the distribution of the ratings (Fig. 5).

A study has three steps:

``srgan mos prepare`` (:func:`prepare_study`)
    builds a blinded study folder: every version of every image under a secret random id,
    one self-contained rating page per rater, and ``manifest.json``, the key to the ids, for
    the analyst only (the raters get ``rater/``).
rating
    in a browser (``rater/rate_<id>.html``, :func:`write_rater_page`) or in a notebook
    (:class:`Rater`); both write the same ratings file.
``srgan mos aggregate`` (:func:`aggregate`, :func:`format_report`, :func:`plot_distributions`)
    validates the rating files, counts only those that carry their rater's token (:func:`rater_token`), flags raters who do not rate HR above NN, and reports the MOS per
    method and dataset with 95% confidence intervals, paired tests and rating distributions.

=============  ==============================================================================
files          the study's files and formats; a JSON reader that trusts no file
blind          writing items so that nothing but their pixels tells them apart
study          preparing a study
calibration    the calibration images, separate from the study
sequence       the order in which one rater sees the study
page           the HTML rating page
widget         the notebook rater
ratings        validating and de-duplicating rating files
simulate       simulated raters (demonstrations and tests only)
stats          t-intervals, Wilcoxon signed-rank tests, Holm families, attainable p
aggregate      MOS, intervals and paired tests from rating files
report         the report as text and as plots
=============  ==============================================================================

The command line, ``srgan mos``, is :mod:`srgan_lib.cli.mos`.
"""
from srgan_lib.mos.aggregate import CI_METHOD, aggregate, paired_differences
from srgan_lib.mos.files import (ANCHORS, FORMAT_VERSION, PUBLIC_FORMAT, RATINGS_FORMAT, SCORE_LABELS, STUDY_FORMAT,
                                 check_rater_id, load_manifest, load_public, rater_token)
from srgan_lib.mos.page import write_rater_page
from srgan_lib.mos.ratings import MAX_RATINGS_BYTES, RatingsFile, load_ratings, verified
from srgan_lib.mos.report import format_report, plot_distributions
from srgan_lib.mos.sequence import rater_sequence
from srgan_lib.mos.simulate import SIMULATED_CLIENT, SIMULATION_DEFAULT_MEANS, simulate_ratings
from srgan_lib.mos.stats import ALPHA, holm, min_attainable_p, raters_needed, t_interval, wilcoxon_signed_rank
from srgan_lib.mos.study import CALIBRATION_DATASET, CALIBRATION_IMAGES, DEFAULT_RATERS, prepare_study
from srgan_lib.mos.widget import Rater

__all__ = ["prepare_study", "load_public", "load_manifest", "rater_sequence", "write_rater_page", "Rater",
           "load_ratings", "RatingsFile", "simulate_ratings", "aggregate", "paired_differences", "format_report",
           "plot_distributions", "holm", "t_interval", "wilcoxon_signed_rank", "min_attainable_p", "raters_needed",
           "check_rater_id", "rater_token", "verified", "ANCHORS", "SCORE_LABELS", "FORMAT_VERSION", "RATINGS_FORMAT",
           "STUDY_FORMAT", "PUBLIC_FORMAT", "MAX_RATINGS_BYTES", "ALPHA", "CI_METHOD", "CALIBRATION_DATASET",
           "CALIBRATION_IMAGES", "DEFAULT_RATERS", "SIMULATED_CLIENT", "SIMULATION_DEFAULT_MEANS"]
