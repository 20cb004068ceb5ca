"""Project-level checks a clinic's IT person relies on."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_compose_defines_the_production_services():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mail"} <= set(services)
    web = _command(services["web"])
    assert "gunicorn" in web and "clinic.wsgi" in web
    assert "migrate" in web and "collectstatic" in web
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_compose_commands_exist_in_the_project():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        text = _command(services[name])
        for module in re.findall(r"-A\s+(\w+)", text) + re.findall(r"(\w+)\.wsgi", text):
            assert (ROOT / module / "__init__.py").exists(), (name, module)
        if "manage.py" in text:
            assert (ROOT / "manage.py").exists()
        for word in shlex.split(text.replace("&&", " ")):
            if word.endswith(".py") or word.startswith("scripts/"):
                assert (ROOT / word).exists(), (name, word)
    assert (ROOT / services["web"]["build"]["dockerfile"]).exists()


def test_dockerfile_installs_the_pinned_requirements():
    text = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in text
    assert re.search(r"^FROM python:3\.11", text, re.M)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    full.update(DJANGO_SETTINGS_MODULE="clinic.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_check_deploy_is_clean_in_production_mode():
    out = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="k3y-for-the-deploy-check-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF",
        ALLOWED_HOSTS="clinic.example",
        SITE_URL="https://clinic.example",
        SECURE_SSL_REDIRECT="true",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


@pytest.mark.slow
def test_migrations_are_committed():
    out = _manage("makemigrations", "--check", "--dry-run", DEBUG="true")
    assert out.returncode == 0, out.stdout + out.stderr


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: a path is left out when it, or a folder
    above it, matches a pattern (`**` spans folders; no `!` exceptions here)."""
    import fnmatch

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        regex = fnmatch.translate(pattern).replace(".*.*/", "(.*/)?")
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(fnmatch.fnmatchcase(part, tail) for part in parts):
                return True
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            return True
    return False


def test_the_production_image_carries_no_tests_bench_screenshots_or_state():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "exceptions are not modelled by this test"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    shipped = [p for p in tracked if not _dockerignored(p, patterns)]
    assert shipped, "nothing would be copied into the image"
    leaked = [
        p
        for p in shipped
        if "/tests/" in f"/{p}" or p.split("/")[0] in {"bench", "docs", "var"} or p == "conftest.py"
    ]
    assert leaked == []
    # ... and what the application needs is there.
    for needed in (
        "manage.py",
        "clinic/settings.py",
        "notes/models.py",
        "templates/base.html",
        "gunicorn.conf.py",
    ):
        assert needed in shipped
    assert any(p.startswith("static/vendor/") for p in shipped)
    assert any(p.endswith("/migrations/0001_initial.py") for p in shipped)


def test_readme_and_docs_link_only_inside_the_repository():
    """A clone has nothing outside the repository: every relative link of the
    README and docs/ must resolve to a file in it."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # http(s) and mailto links are not files
            resolved = (page.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert broken == []
    assert "../shared" not in "".join(p.read_text() for p in pages)


def test_the_mail_catcher_is_pinned_and_local_only():
    """Mailpit's web UI shows every email the clinic sends: this host only, and
    a fixed image tag (never "latest")."""
    mail = _compose()["services"]["mail"]
    image, _, tag = mail["image"].partition(":")
    assert image == "axllent/mailpit" and tag and tag != "latest"
    assert all(str(port).startswith("127.0.0.1:") for port in mail.get("ports", []))
