"""Teaching helpers of the SRGAN book: the figures, comparisons and demonstrations its chapters show.

Nothing in the core library (training, evaluation, upscaling) imports this package.  Each module
holds one idea; import the module you need, e.g. ``from srgan_lib.teaching import samples``.
Everything a widget of the book computes lives here, with tests, so that the notebook cells only
call and display.
"""
