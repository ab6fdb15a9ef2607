"""The import-graph check that `make lint` runs: it must see what it promises to see."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_imports.py"


@pytest.fixture(scope="module")
def check_imports():
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_imports"] = module
    spec.loader.exec_module(module)
    return module


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def problems_in(check_imports, root: Path, files: dict[str, str]) -> list[str]:
    write_tree(root, files)
    packages = sorted({name.split("/")[0] for name in files})
    return list(check_imports.problems(check_imports.project_modules(root, packages)))


def test_it_passes_the_project_as_it_is(check_imports):
    assert list(check_imports.problems(check_imports.project_modules())) == []


def test_it_names_two_modules_that_import_each_other(check_imports, tmp_path):
    found = problems_in(
        check_imports,
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/a.py": "from shop.b import thing\n",
            "shop/b.py": "def f():\n    from . import a\n",
        },
    )
    assert found == ["modules import each other in a circle: shop.a <-> shop.b"]


def test_it_names_two_apps_that_import_each_other(check_imports, tmp_path):
    found = problems_in(
        check_imports,
        tmp_path,
        {
            "low/__init__.py": "",
            "low/services.py": "from high.models import Thing\n",
            "high/__init__.py": "",
            "high/models.py": "",
            "high/views.py": "from low.services import make\n",
        },
    )
    assert found == ["apps import each other in a circle: high -> low, low -> high"]


def test_it_lets_a_service_queue_its_own_apps_task_and_ignores_type_only_imports(
    check_imports, tmp_path
):
    found = problems_in(
        check_imports,
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/services.py": "from shop.tasks import send_task\n",
            "shop/tasks.py": "from shop.services import send\n",
            "shop/models.py": "\n".join(
                [
                    "from typing import TYPE_CHECKING",
                    "if TYPE_CHECKING:",
                    "    from shop.views import v",
                ]
            ),
            "shop/views.py": "from shop.models import M\n",
        },
    )
    assert found == []


def test_it_keeps_the_engine_free_of_django(check_imports, tmp_path):
    found = problems_in(
        check_imports,
        tmp_path,
        {
            "matching/__init__.py": "",
            "matching/engine/__init__.py": "",
            "matching/engine/solve.py": "from django.db import models\n",
        },
    )
    assert found == ["matching.engine.solve must stay pure but imports django"]
