"""``python -m srgan_lib.cli``: the ``srgan`` command."""
import sys

from srgan_lib.cli import main

sys.exit(main())
