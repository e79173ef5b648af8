"""Build hook: the wheel carries the default mappings/ and templates/ folders as package data.

They stay at the top of the source tree, where users and docs find them (mappings/study.yaml, ...),
and are copied into cdisc_als/mappings and cdisc_als/templates of the built package, where
cdisc_als.resources looks first. Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("mappings", "templates")


class BuildPyWithDataFolders(build_py):
    def run(self) -> None:
        super().run()
        for name in DATA_FOLDERS:
            source = Path(__file__).parent / name
            if source.is_dir():
                shutil.copytree(source, Path(self.build_lib) / "cdisc_als" / name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithDataFolders})
