"""Build hook: the packaged demo configuration.

Why: an installed broker (``pip install .``, ``pipx install .``) must start without a checkout,
so the wheel carries a copy of the repository's ``config/`` as ``broker/defaults/``.
``config/`` stays the one source of truth (tests, docs and ``--config config`` use it); the copy
exists only in build output. Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent / "config"


class BuildWithDefaults(build_py):
    """``build_py`` that also copies ``config/`` to ``broker/defaults`` in the build."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads config/ in place (broker.config.loader)
        target = Path(self.build_lib) / "broker" / "defaults"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            target = Path(self.build_lib) / "broker" / "defaults"
            files = [p for p in SOURCE.rglob("*") if p.is_file()]
            outputs += [str(target / p.relative_to(SOURCE)) for p in files]
        return outputs


setup(cmdclass={"build_py": BuildWithDefaults})
