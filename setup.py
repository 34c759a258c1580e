"""Package layout: core/ installs as ``flcollector`` and plugins/ as ``flcollector.plugins``.

pyproject.toml cannot express "every subpackage of a remapped folder", so the list is computed here.
"""

from setuptools import find_packages, setup

packages = ["flcollector", "flcollector.plugins"]
packages += [f"flcollector.{name}" for name in find_packages("core") if not name.startswith("plugins")]
packages += [f"flcollector.plugins.{name}" for name in find_packages("plugins")]

setup(packages=packages, package_dir={"flcollector": "core", "flcollector.plugins": "plugins"})
