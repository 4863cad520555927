"""The deployment files are right without a Docker engine: the compose files validate against
the Compose Specification's schema, and what the schema cannot see is checked here against
the code itself (the CLI's commands, the settings, the files on disk)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from libs.common.settings import MailpipeConfig
from tests.unit.compose_helpers import (
    BASE,
    DEMO,
    REPO,
    dockerfile_instructions,
    exec_form,
    final_stage,
    known_settings,
    load,
    mailpipe_args,
    mailpipe_vars_in,
    merged,
    parse_mailpipe_args,
)

SCHEMA = REPO.parent / "shared" / "reference" / "compose-spec.json"
PIPELINE = ("fetcher", "ticketer", "sender")
SCALABLE = ("ticketer", "sender")
PROJECTS = {"base": (BASE,), "demo": (BASE, DEMO)}


def project(which: str) -> dict[str, Any]:
    return merged(*PROJECTS[which])


def uses_mailpipe_image(service: dict[str, Any]) -> bool:
    return "build" in service


@pytest.mark.parametrize("name", [BASE, DEMO])
def test_compose_files_validate_against_the_compose_spec(name: str) -> None:
    if not SCHEMA.is_file():
        pytest.fail(f"the Compose Specification schema is missing: expected it at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    doc = load(name)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)
    ]
    assert errors == []
    assert "version" not in doc  # obsolete; compose warns about it


@pytest.mark.parametrize("which", PROJECTS)
def test_depends_on_targets_exist_with_what_their_condition_needs(which: str) -> None:
    services = project(which)["services"]
    checked = 0
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on undefined service {target}"
            dep = services[target]
            condition = spec.get("condition", "service_started")
            if condition == "service_healthy":
                health = dep.get("healthcheck") or {}
                assert health.get("test") and not health.get("disable"), (
                    f"{name} waits for {target} to be healthy, but {target} has no healthcheck"
                )
            if condition == "service_completed_successfully":
                assert dep.get("restart") == "no", f"{target} must be a one-shot (restart: no)"
                assert "healthcheck" not in dep or dep["healthcheck"].get("disable")
            if which == "base":  # without --profile, no service may need a profiled one
                assert not dep.get("profiles") or service.get("profiles"), (name, target)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("which", PROJECTS)
def test_every_command_and_healthcheck_is_a_real_mailpipe_command(which: str) -> None:
    services = project(which)["services"]
    commands = {}
    for name, service in services.items():
        if uses_mailpipe_image(service):
            commands[name] = parse_mailpipe_args(service["command"])
        args = mailpipe_args((service.get("healthcheck") or {}).get("test"))
        if args is not None:
            assert parse_mailpipe_args(args) == "mailpipe healthcheck"
    assert {commands[s] for s in PIPELINE} == {f"mailpipe {s}" for s in PIPELINE}
    assert commands["migrate"] == "mailpipe migrate"
    assert commands["blobs-gc"] == "mailpipe blobs gc"
    assert commands["graphsim"] == "mailpipe graphsim"
    assert commands["web"] == "mailpipe web"


def test_a_wrong_command_or_option_is_caught() -> None:
    # The check above is only worth something if it rejects what the CLI would reject.
    for bad in (["fetchr"], ["graphsim", "--no-such-option"], ["healthcheck", "--port", "x"]):
        with pytest.raises(Exception, match=r"(?i)no such|valid integer"):
            parse_mailpipe_args(bad)


def test_every_mailpipe_variable_is_a_real_setting() -> None:
    known = known_settings()
    assert {"MAILPIPE_AMQP_URL", "MAILPIPE_HEALTH_PORT", "MAILPIPE_SENDER_RATE_PER_MINUTE"} <= known
    used: dict[str, set[str]] = {}
    for name in (BASE, DEMO, ".env.example"):
        used[name] = mailpipe_vars_in((REPO / name).read_text(encoding="utf-8"))
    for name, service in project("demo")["services"].items():
        env = service.get("environment") or {}
        keys = set(env) if isinstance(env, dict) else {e.split("=", 1)[0] for e in env}
        used[f"services.{name}.environment"] = {k for k in keys if k.startswith("MAILPIPE_")}
    unknown = {where: sorted(names - known) for where, names in used.items() if names - known}
    assert unknown == {}
    assert "MAILPIPE_HEALTH_PORT" in used[".env.example"]


def test_pipeline_services_can_be_scaled() -> None:
    services = project("demo")["services"]
    for name in PIPELINE:
        service = services[name]
        assert "container_name" not in service, name
        assert "ports" not in service, name
        assert service["environment"]["MAILPIPE_HEALTH_PORT"], name  # the probe's port
        assert service.get("stop_grace_period"), name
    for name in SCALABLE:
        assert "replicas" not in (services[name].get("deploy") or {}), name
        assert "scale" not in services[name], name
    # Two fetchers share the mailboxes by default; one polls each (docs/deployment.md).
    assert services["fetcher"]["deploy"]["replicas"] == 2
    deployment = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert "several fetchers" in deployment.lower()


def test_nothing_is_published_but_the_console_and_the_demo_simulator_on_loopback() -> None:
    base = project("base")["services"]
    assert [name for name, s in base.items() if "ports" in s] == ["web"]
    assert all(p.startswith("127.0.0.1:") for p in base["web"]["ports"])
    demo = project("demo")["services"]
    assert all(p.startswith("127.0.0.1:") for p in demo["graphsim"]["ports"])


def test_volumes_secrets_and_configs_are_declared_and_shared() -> None:
    for which in PROJECTS:
        doc = project(which)
        for name, service in doc["services"].items():
            for volume in service.get("volumes") or []:
                source = volume.split(":", 1)[0]
                if not source.startswith((".", "/")):
                    assert source in doc["volumes"], f"{name}: volume {source} not declared"
            for kind in ("secrets", "configs"):
                for ref in service.get(kind) or []:
                    source = ref if isinstance(ref, str) else ref["source"]
                    assert source in doc.get(kind, {}), f"{name}: {kind} {source} not declared"
    services = project("base")["services"]
    # No shared disk: every service keeps and reads blobs in the database, the GC included.
    assert "blobs" not in project("base")["volumes"]
    for name in (*PIPELINE, "blobs-gc"):
        env = services[name]["environment"]
        assert env["MAILPIPE_BLOB_STORE"] == "database", name
        assert "MAILPIPE_BLOB_DIR" not in env and not services[name].get("volumes"), name
    limits = {services[name]["environment"]["MAILPIPE_BLOB_MAX_BYTES"] for name in PIPELINE}
    assert len(limits) == 1, "one size limit for every service"


def test_passwords_reach_services_as_mounted_files_not_in_urls() -> None:
    for which in PROJECTS:
        for name, service in project(which)["services"].items():
            env = service.get("environment") or {}
            for key, value in env.items():
                if key.endswith("_URL") and "://" in str(value):
                    assert urlsplit(str(value)).password is None, f"{name}: {key} has a password"
                if key.endswith("_PASSWORD_FILE"):
                    secret = str(value).removeprefix("/run/secrets/")
                    mounted = [r if isinstance(r, str) else r["source"] for r in service["secrets"]]
                    assert secret in mounted, f"{name}: {key} names a secret it does not mount"
            assert "POSTGRES_PASSWORD" not in env and "RABBITMQ_DEFAULT_PASS" not in env, name


def test_referenced_files_exist_or_are_documented() -> None:
    env_example = (REPO / ".env.example").read_text(encoding="utf-8")
    for name in (BASE, DEMO):
        doc = load(name)
        for service in doc["services"].values():
            if "build" in service:
                context = REPO / service["build"]["context"]
                assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file()
        for kind in ("secrets", "configs"):
            for entry in (doc.get(kind) or {}).values():
                if "environment" in entry:  # a password from .env, handed over as a file
                    assert f"{entry['environment']}=" in env_example, entry
                    continue
                if "content" in entry:  # written by compose itself
                    continue
                path = Path(entry["file"])
                if name == DEMO:  # the demo needs nothing made by hand
                    assert (REPO / path).is_file(), path
                else:
                    assert (REPO / path).is_file() or path.as_posix().lstrip("./") in env_example


def test_the_demo_services_read_the_config_the_simulator_writes() -> None:
    services = project("demo")["services"]
    command = services["graphsim"]["command"]
    option = {command[i]: command[i + 1] for i in range(len(command) - 1)}
    assert option["--public-host"] == "graphsim"  # the name the services reach it by
    assert option["--host"] == "0.0.0.0"
    for name in PIPELINE:
        env = services[name]["environment"]
        assert env["MAILPIPE_CONFIG"] == option["--write-config"], name
        mounts = [v.split(":")[1] for v in services[name]["volumes"]]
        assert any(option["--write-config"].startswith(m + "/") for m in mounts), name
        assert any(option["--state-dir"].startswith(m + "/") for m in mounts), name  # its CA
        assert services[name]["depends_on"]["graphsim"]["condition"] == "service_healthy"


def test_the_example_config_is_valid_and_uses_the_compose_secret() -> None:
    data = tomllib.loads((REPO / "deploy" / "mailpipe.toml.example").read_text(encoding="utf-8"))
    config = MailpipeConfig.model_validate(data)
    secrets = load(BASE)["secrets"]
    for box in config.mailboxes:
        assert box.client_secret_file is not None
        assert box.client_secret_file.parent == Path("/run/secrets")
        assert box.client_secret_file.name in secrets
    config_target = load(BASE)["x-service"]["configs"][0]["target"]
    assert load(BASE)["x-service"]["environment"]["MAILPIPE_CONFIG"] == config_target


def test_dockerfile_is_multi_stage_non_root_exec_form_mailpipe() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    steps = dockerfile_instructions(text)
    assert sum(1 for keyword, _ in steps if keyword == "FROM") >= 2
    final = final_stage(steps)
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))
    base = final[0][1].replace("${PYTHON_IMAGE}", args.get("PYTHON_IMAGE", ""))
    assert re.fullmatch(r"python:3\.1[1-9]-slim", base), base
    keywords = dict(final)  # the last of each instruction counts, as in Docker
    assert exec_form(keywords["ENTRYPOINT"]) == ["mailpipe"]
    assert keywords["USER"].split(":")[0] not in ("root", "0")
    assert keywords["STOPSIGNAL"] == "SIGTERM"
    assert any(k == "COPY" and a.startswith("--from=builder") for k, a in final)
    cmd = exec_form(keywords["CMD"])
    assert cmd == ["--help"] or parse_mailpipe_args(cmd)
    probe = exec_form(keywords["HEALTHCHECK"].split(" CMD ", 1)[1])
    assert probe[0] == "mailpipe" and parse_mailpipe_args(probe[1:]) == "mailpipe healthcheck"
    for keyword, arg in steps:  # everything copied from the build context exists
        if keyword == "COPY" and not arg.startswith("--"):
            for source in arg.split()[:-1]:
                assert (REPO / source).exists(), source
