"""Loaded by every Python started with this folder on PYTHONPATH (the Colab-like kernel of
tests/test_colab.py): makes ``myst_nb`` unimportable, as it is on Colab."""
import sys


class _NoMystNb:
    def find_spec(self, name, path=None, target=None):
        if name == "myst_nb" or name.startswith("myst_nb."):
            raise ModuleNotFoundError(f"No module named {name!r} (Colab has no myst_nb)", name=name)
        return None


sys.meta_path.insert(0, _NoMystNb())
