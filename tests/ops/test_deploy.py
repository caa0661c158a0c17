"""Production readiness: check --deploy is silent with the documented environment,
hashed static files build, and gunicorn reads its settings from the environment."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]

# What the README documents as the minimal production environment.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),  # 50+ random characters
    "ALLOWED_HOSTS": "example.com",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE", "SECRET_KEY",
                                                                 "DJANGO_ALLOW_ASYNC_UNSAFE",
                                                                 "ALLOWED_HOSTS") and not k.startswith("SECURE_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "wingman.settings", **env},
        capture_output=True, text=True, timeout=120,
    )


def test_it_passes_the_deploy_check_with_the_documented_environment():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_warns_when_the_safeguards_are_switched_off():
    """The check is not silent by accident: switching a safeguard off is reported."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV, SECURE_HSTS_SECONDS="0",
                     SESSION_COOKIE_SECURE="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W012" in result.stderr


def test_it_refuses_to_start_without_a_secret_key_in_production():
    result = _manage("check", DEBUG="0", ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("value", ["warning", "WARNING", " Warning "])
def test_it_reads_the_log_level_in_any_case_as_gunicorn_does(value):
    """gunicorn.conf.py lower-cases LOG_LEVEL; the same value must not stop Django from starting."""
    result = _manage("shell", "--no-imports", "-c", "import logging; print(logging.getLogger().getEffectiveLevel())",
                     **PRODUCTION_ENV, LOG_LEVEL=value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "30"  # logging.WARNING


def test_it_refuses_an_unknown_log_level_and_says_which_variable():
    result = _manage("check", **PRODUCTION_ENV, LOG_LEVEL="loud")
    assert result.returncode != 0
    assert "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in result.stderr
    assert "'loud'" in result.stderr


def test_it_builds_hashed_compressed_static_files(tmp_path):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert '"admin/css/base.css": "admin/css/base.' in manifest
    assert list(tmp_path.glob("admin/css/base.*.css.gz"))


def test_it_uses_the_manifest_storage_when_debug_is_off():
    result = _manage("shell", "-c", "from django.conf import settings; print(settings.STORAGES['staticfiles'])",
                     **PRODUCTION_ENV)
    assert "whitenoise.storage.CompressedManifestStaticFilesStorage" in result.stdout, result.stderr


@pytest.fixture
def gunicorn_settings(monkeypatch):
    def load(**env):
        for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_FREEZE_AFTER"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    return load


def test_it_configures_gunicorn_from_the_environment(gunicorn_settings):
    conf = gunicorn_settings(PORT="9123", WEB_CONCURRENCY="3", GUNICORN_TIMEOUT="20")
    assert conf["bind"] == "0.0.0.0:9123"
    assert (conf["workers"], conf["timeout"]) == (3, 20)
    assert conf["accesslog"] is None  # the request middleware logs instead
    assert conf["errorlog"] == "-"


def test_it_has_sensible_gunicorn_defaults(gunicorn_settings):
    conf = gunicorn_settings()
    assert conf["bind"] == "0.0.0.0:8000"
    assert 1 <= conf["workers"] <= 8
    assert conf["timeout"] == 30 and conf["graceful_timeout"] == 30


def test_a_worker_freezes_its_long_lived_objects_once_loaded_and_once_warm(gunicorn_settings):
    """The collector stops scanning what was alive at load and after the first requests (gunicorn.conf.py)."""
    import gc
    from types import SimpleNamespace

    conf = gunicorn_settings(GUNICORN_FREEZE_AFTER="3")
    worker = SimpleNamespace(nr=0)
    gc.unfreeze()
    try:
        conf["post_worker_init"](worker)
        after_load = gc.get_freeze_count()
        assert after_load > 0
        keep = [[n] for n in range(1000)]  # made after loading: frozen only once the worker is warm
        for nr in (1, 2):
            worker.nr = nr
            conf["post_request"](worker, None, {}, None)
        # Not warm yet: nothing more frozen. (A frozen object can still be freed, so the count may drop by one;
        # another freeze would have added the thousand lists above.)
        assert gc.get_freeze_count() <= after_load
        worker.nr = 3
        conf["post_request"](worker, None, {}, None)
        warm = gc.get_freeze_count()
        assert warm >= after_load + len(keep)
        worker.nr = 4
        conf["post_request"](worker, None, {}, None)
        assert gc.get_freeze_count() <= warm  # once
    finally:
        gc.unfreeze()
