"""The wheel carries what a host needs: templates, static files (htmx + licence), migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (found,) = out.glob("aourly_fortnox-*.whl")
    return found


def test_wheel_holds_templates_static_files_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "aourly_fortnox/web/templates/aourly_fortnox/_card.html" in names
    assert "aourly_fortnox/web/templates/aourly_fortnox/mapping.html" in names
    assert "aourly_fortnox/web/static/aourly_fortnox/htmx.min.js" in names
    assert "aourly_fortnox/web/static/aourly_fortnox/htmx.LICENSE" in names
    assert "aourly_fortnox/migrations/env.py" in names
    assert "aourly_fortnox/migrations/script.py.mako" in names
    assert any(n.startswith("aourly_fortnox/migrations/versions/0001") for n in names)
    assert "aourly_fortnox/py.typed" in names
    assert "aourly_fortnox/sandbox/templates/sandbox_consent.html" in names
    assert "aourly_fortnox/translations/sv/LC_MESSAGES/aourly_fortnox.po" in names
    assert not any(n.startswith(("example_host/", "tests/")) for n in names)


def test_installed_wheel_upgrades_an_empty_sqlite_database(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    from cryptography.fernet import Fernet

    db_file = tmp_path / "fresh.db"
    (tmp_path / "wheel_host.py").write_text(
        "import aourly_fortnox, sys\n"
        f"assert aourly_fortnox.__file__.startswith({str(target)!r}), aourly_fortnox.__file__\n"
        "from flask import Flask\n"
        "from flask_sqlalchemy import SQLAlchemy\n"
        "app = Flask(__name__)\n"
        f"app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///{db_file}'\n"
        f"app.config['AOURLY_FORTNOX_TOKEN_KEYS'] = '{Fernet.generate_key().decode()}'\n"
        "app.config['AOURLY_FORTNOX_REDIS_URL'] = 'redis://127.0.0.1:6379/0'  # not dialled\n"
        "db = SQLAlchemy(app)\n"
        "aourly_fortnox.FortnoxIntegration(app, db=db)\n"
    )
    # The wheel's copy first on the path, the test venv's dependencies after it.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(tmp_path)])}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wheel_host", "fortnox", "db", "upgrade"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{db_file}")
    assert "fortnox_connection" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_every_subpackage_imports_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    """Not only what init_app happens to import: every module in the source tree is in the
    wheel and imports from there (a package left out of the build fails here)."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    source = ROOT / "aourly_fortnox"
    modules = sorted(
        ".".join(("aourly_fortnox", *path.relative_to(source).with_suffix("").parts))
        .removesuffix(".__init__")
        for path in source.rglob("*.py")
        # Scripts, not modules: a __main__ runs a server; env.py runs only inside Alembic.
        if "__pycache__" not in path.parts and path.name != "__main__.py"
        and path.relative_to(source).as_posix() != "migrations/env.py"
    )
    assert "aourly_fortnox.sync.importer" in modules and "aourly_fortnox.web.views" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({str(target)!r}), module.__file__\n"
        "print(len(sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_building_the_wheel_warns_about_no_ignored_package(tmp_path: Path) -> None:
    """setuptools printed five "Package would be ignored" warnings when data folders were not
    packages it found; verbose, so the build backend's own warnings reach the output."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "running bdist_wheel" in output  # the backend's output really is here
    assert "would be ignored" not in output
    assert "SetuptoolsDeprecationWarning" not in output
