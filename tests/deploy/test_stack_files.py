"""docker-compose.yml and `make prod` (scripts/prod.py) run the processes of deploy/Procfile, behind one proxy
configuration file."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts import prod

BASE_DIR = Path(prod.BASE_DIR)
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Services that run a stock image's own process, not one of ours.
NOT_IN_PROCFILE = {"db", "redis"}


def test_every_procfile_process_is_a_compose_service_and_every_command_of_ours_is_in_the_procfile():
    lines = prod.procfile_read()
    assert set(lines) == set(SERVICES) - NOT_IN_PROCFILE


@pytest.mark.parametrize("name", sorted(prod.procfile_read()))
def test_each_compose_command_is_its_procfile_line_with_the_containers_defaults(name):
    line = prod.procfile_read()[name]
    assert SERVICES[name]["command"] == prod.command_of(line=line, values={})


@pytest.mark.parametrize("name", sorted(prod.procfile_read()))
def test_make_prod_runs_the_same_procfile_line_with_local_values(name, tmp_path):
    stack = prod.Stack(database_url="postgres://x@127.0.0.1:1/x", redis_url="redis://127.0.0.1:1/0",
                       http_port=18080, https_port=18443, web_port=18000, run_dir=tmp_path, tls_dir=tmp_path / "tls")
    compose, local = SERVICES[name]["command"], stack.command(name)
    # The program and its options are the containers'; only the placeholders' values differ.
    assert local[0] == compose[0] and len(local) == len(compose)
    differing = {theirs for theirs, ours in zip(compose, local, strict=True) if theirs != ours}
    defaults = dict(prod.PLACEHOLDER.findall(prod.procfile_read()[name]))
    assert differing <= set(defaults.values())


def test_compose_and_make_prod_use_the_same_proxy_configuration_file():
    mounts = [volume.split(":") for volume in SERVICES["proxy"]["volumes"]]
    templates = [host for host, target, *_ in mounts if target.startswith("/etc/nginx/templates/")]
    assert [(BASE_DIR / host).resolve() for host in templates] == [prod.NGINX_TEMPLATE.resolve()]


def test_compose_and_make_prod_fill_in_the_same_proxy_variables(tmp_path):
    template = prod.NGINX_TEMPLATE.read_text()
    used = prod.template_variables(text=template)
    compose = {name for name in SERVICES["proxy"]["environment"] if name.startswith("PROXY_")}
    stack = prod.Stack(database_url="postgres://x@127.0.0.1:1/x", redis_url="redis://127.0.0.1:1/0",
                       run_dir=tmp_path, tls_dir=tmp_path / "tls")
    assert used == compose == set(stack.proxy_values())
    rendered = prod.template_render(text=template, values=stack.proxy_values())
    assert "PROXY_" not in re.sub(r"^\s*#.*$", "", rendered, flags=re.MULTILINE)


def test_the_rendered_proxy_configuration_is_valid_nginx(tmp_path):
    stack = prod.Stack(database_url="postgres://x@127.0.0.1:1/x", redis_url="redis://127.0.0.1:1/0",
                       run_dir=tmp_path, tls_dir=tmp_path / "tls")
    subprocess.run(["sh", str(BASE_DIR / "deploy" / "tls-selfsigned.sh"), str(tmp_path / "tls")], check=True,
                   capture_output=True)
    site = tmp_path / "retarget.conf"
    site.write_text(prod.template_render(text=prod.NGINX_TEMPLATE.read_text(), values=stack.proxy_values()))
    main = tmp_path / "nginx.conf"
    main.write_text(prod.nginx_main_conf(run_dir=tmp_path, site_conf=site))
    result = subprocess.run([prod.nginx_ensure(), "-t", "-c", str(main)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_only_the_proxy_is_published():
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}
    assert sorted(port.split(":")[-1] for port in SERVICES["proxy"]["ports"]) == ["443", "80"]


def test_compose_defaults_are_secure_and_one_switch_turns_plain_http_on():
    web = SERVICES["web"]["environment"]
    assert web["TRUSTED_PROXY_COUNT"] == "1" and web["BEHIND_TLS_PROXY"] == "1"
    switched = {name: value for name, value in {**web, **SERVICES["proxy"]["environment"]}.items()
                if "HTTPS_ONLY" in str(value)}
    assert set(switched) == {"SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                             "PROXY_HTTPS_ONLY"}
    assert set(switched.values()) == {"${HTTPS_ONLY:-1}"}

