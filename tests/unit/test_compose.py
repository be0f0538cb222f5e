"""docker-compose.yml cannot run here: check that its services, ports, environment and
configuration agree with each other, with the CLI and with the code they run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from pipeline.cli.app import app as cli
from pipeline.cli.web import TOKEN_ENV
from pipeline.config.settings import ENV_VARIABLES, load_settings
from pipeline.storage.elasticsearch.kibana import KIBANA_FILE, ndjson
from pipeline.storage.elasticsearch.store import KINDS, TEMPLATE_DIR, IndexNames
from tests.conftest import REPO, newswire

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
APPS = ("setup", "poller", "worker", "web")


def services_script_default(name: str) -> str:
    text = (REPO / "scripts" / "services").read_text(encoding="utf-8")
    found = re.search(rf"^{name}=(\S+)", text, re.M)
    assert found, f"scripts/services has no {name}"
    return found.group(1)


def host_port(service: str, container_port: int) -> int:
    for spec in SERVICES[service].get("ports", []):
        host, _, inner = str(spec).rpartition(":")
        if int(inner) == container_port:
            return int(host)
    raise AssertionError(f"{service} does not publish port {container_port}")


def test_every_part_of_the_stack_is_there() -> None:
    assert set(SERVICES) == {"kafka", "elasticsearch", "kibana", "setup", "poller", "worker",
                             "web"}
    assert SERVICES["worker"]["deploy"]["replicas"] >= 2
    assert SERVICES["setup"]["restart"] == "no"


def test_versions_follow_what_the_tests_run_against() -> None:
    kafka = services_script_default("DEFAULT_KAFKA_VERSION")
    es = services_script_default("DEFAULT_ES_VERSION")
    assert SERVICES["kafka"]["image"] == f"apache/kafka:{kafka}"
    assert SERVICES["elasticsearch"]["image"].endswith(f"/elasticsearch:{es}")
    assert SERVICES["kibana"]["image"].endswith(f"/kibana:{es}")
    from elasticsearch import __versionstr__ as client_version
    assert client_version.split(".")[0] == es.split(".")[0], "client and server majors differ"


def test_kafka_kraft_listeners_agree_with_the_apps() -> None:
    env = SERVICES["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    node = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka{listeners['CONTROLLER']}"
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in listeners
    for name in listeners:
        assert name in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    inside = advertised[env["KAFKA_INTER_BROKER_LISTENER_NAME"]]
    host = advertised["HOST"]
    assert host_port("kafka", int(host.rsplit(":", 1)[1])) == int(host.rsplit(":", 1)[1])
    for name in ("poller", "worker"):
        assert SERVICES[name]["environment"]["NEWSWIRE_KAFKA"] == inside
        assert "kafka" in SERVICES[name]["depends_on"]


def test_elasticsearch_and_kibana_agree() -> None:
    es_env = SERVICES["elasticsearch"]["environment"]
    assert es_env["discovery.type"] == "single-node"
    assert host_port("elasticsearch", 9200) == 9200
    assert host_port("kibana", 5601) == 5601
    assert json.loads(SERVICES["kibana"]["environment"]["ELASTICSEARCH_HOSTS"]) == [
        "http://elasticsearch:9200"]
    for name in APPS:
        assert SERVICES[name]["environment"]["NEWSWIRE_ELASTICSEARCH"] == \
            "http://elasticsearch:9200"
    setup = SERVICES["setup"]
    kibana_url = setup["command"][setup["command"].index("--kibana") + 1]
    assert kibana_url == "http://kibana:5601"
    assert setup["depends_on"]["kibana"]["condition"] == "service_healthy"


def test_app_services_use_real_settings_and_commands() -> None:
    commands = {c.name or (c.callback.__name__ if c.callback else "")
                for c in cli.registered_commands}
    for name in APPS:
        service = SERVICES[name]
        env = service["environment"]
        unknown = {k for k in env if k.startswith("NEWSWIRE_")} - ENV_VARIABLES - {TOKEN_ENV}
        assert not unknown, f"{name}: environment variables newswire does not read: {unknown}"
        assert env["NEWSWIRE_BACKEND"] == "kafka"
        settings = load_settings(REPO / "config", env={k: str(v) for k, v in env.items()
                                                       if k != "NEWSWIRE_CONFIG"})
        assert settings.backend == "kafka"
        assert "./config:/app/config:ro" in service["volumes"]
        assert env["NEWSWIRE_CONFIG"] == "/app/config"
        command = service["command"]
        assert command[0] == "newswire", f"{name} runs {command}: not the newswire CLI"
        assert command[1] in commands, f"{name} runs `newswire {command[1]}`: no such command"
        for dep in service.get("depends_on", {}):
            assert dep in SERVICES
    assert host_port("web", 8000) == 8000
    assert (REPO / "Dockerfile").exists()


def test_index_templates_match_the_aliases() -> None:
    names = IndexNames("newswire")
    for kind in KINDS:
        body = json.loads((TEMPLATE_DIR / f"{kind}.json").read_text(encoding="utf-8"))
        assert body["index_patterns"] == [f"{names.alias(kind)}-*"]
        assert names.index(kind).startswith(names.alias(kind) + "-")
    articles = json.loads((TEMPLATE_DIR / "articles.json").read_text(encoding="utf-8"))
    assert articles["template"]["mappings"]["properties"]["published"]["type"] == "date"


def test_kibana_saved_objects_are_generated_from_the_topics() -> None:
    settings = load_settings(REPO / "config", env={})
    assert KIBANA_FILE.read_text(encoding="utf-8") == ndjson(settings.topics, settings.rules), (
        "config/kibana/newswire.ndjson is stale: run "
        "`python -m pipeline.storage.elasticsearch.kibana "
        "--write-kibana config/kibana/newswire.ndjson`")
    objects = [json.loads(line) for line in KIBANA_FILE.read_text().splitlines()]
    by_id = {o["id"]: o for o in objects}
    view = by_id["newswire-articles"]
    assert view["type"] == "index-pattern" and view["attributes"]["timeFieldName"] == "published"
    assert view["attributes"]["title"] == IndexNames().articles
    for topic in settings.topics:
        assert by_id[f"newswire-topic-{topic.name}"]["type"] == "search"
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"]: r["id"] for r in dashboard["references"]}
    assert {refs[p["panelRefName"]] for p in panels} == {
        "newswire-articles-by-topic", "newswire-top-sources", "newswire-largest-stories"}
    for obj in objects:
        for ref in obj.get("references", []):
            assert ref["id"] in by_id, f"{obj['id']} refers to missing {ref['id']}"


def test_kibana_has_a_saved_search_per_alert_rule_with_index_field_names() -> None:
    from pipeline.storage.elasticsearch.kibana import kibana_query

    assert kibana_query("ukraine AND topic:security-pacts") == "ukraine AND topics:security-pacts"
    text = KIBANA_FILE.read_text(encoding="utf-8")
    for rule in load_settings(REPO / "config", env={}).rules:
        assert f'"newswire-alert-{rule.name}"' in text


def test_kibana_write_through_the_cli_matches_the_shipped_file(tmp_path: Path) -> None:
    out = tmp_path / "objects.ndjson"
    newswire(REPO / "config", tmp_path / "data", "kibana", "write", str(out))
    assert out.read_text(encoding="utf-8") == KIBANA_FILE.read_text(encoding="utf-8")
