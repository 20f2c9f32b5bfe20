"""pyproject.toml: every extra a requirement asks for is one its package declares, spelled as it declares it
(pip before 23.3 compares extras as written and warns "does not provide the extra" otherwise)."""
from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    raw = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        raw += extra
    return [Requirement(r) for r in raw]


def test_requested_extras_are_declared_by_the_package_as_written():
    checked = 0
    for req in _requirements():
        if not req.extras:
            continue
        try:
            provided = set(metadata.metadata(req.name).get_all("Provides-Extra") or [])
        except metadata.PackageNotFoundError:
            continue  # not installed here; nothing to compare with
        assert req.extras <= provided, f"{req}: {req.name} declares extras {sorted(provided)}"
        checked += 1
    assert checked >= 1  # lxml[html-clean]


def test_docs_assets_package_is_a_dependency():
    names = {r.name.lower().replace("_", "-") for r in _requirements()}
    assert "fastapi-offline" in names


def test_pytest_config_filters_ranx_numba_cast_warning():
    import warnings

    from _pytest.config import parse_warning_filter

    filters = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["pytest"]["ini_options"]["filterwarnings"]
    try:
        from numba.core.errors import NumbaTypeSafetyWarning as category
    except ImportError:
        category = UserWarning

    def emitted(apply: bool) -> list:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if apply:
                for f in filters:
                    warnings.filterwarnings(*parse_warning_filter(f, escape=False))
            warnings.warn_explicit("unsafe cast from uint64 to int64. Precision may be lost.", category,
                                   "hit_rate.py", 38, module="ranx.metrics.hit_rate")
            warnings.warn_explicit("unsafe cast from uint64 to int64. Precision may be lost.", category,
                                   "ours.py", 1, module="service.retrieval")
        return [str(w.message) for w in caught]

    assert len(emitted(False)) == 2
    assert len(emitted(True)) == 1  # ranx's is filtered, the same cast in our own code is not


def test_every_package_of_the_four_is_in_the_distribution():
    """service.api, index.formats … ship in a plain `pip install .` or a wheel, not only in an editable install: the
    packages setuptools finds with pyproject's include patterns are every folder with an __init__.py."""
    from setuptools import find_packages

    include = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"]["find"]["include"]
    found = set(find_packages(str(ROOT), include=include))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for top in ("index", "service", "ui", "eval")
               for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk and on_disk <= found, sorted(on_disk - found)
    assert {"service.api", "index.formats"} <= found
