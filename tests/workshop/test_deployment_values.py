"""The Kubernetes deployment values (workshop/zero-to-jupyterhub, workshop/binderhub) against the charts' schemas.

The charts' ``values.schema.json`` files are not on PyPI and this project does not vendor them, so the
schemas below are the part of them these values use, written down from the charts' ``values.schema.yaml``
(jupyterhub/zero-to-jupyterhub-k8s at 02dd73df, the 4.x line; jupyterhub/binderhub at 08deb654): the same
key names, types, enums, and ``additionalProperties: false`` wherever the chart has it, so that a
misspelt or misplaced key fails here as ``helm`` would fail it. What this does not check: keys the
chart passes through unchecked (``hub.config``, ``hub.loadRoles``, BinderHub's ``config``: traitlets
that only the running hub validates) and the required keys the charts' own defaults supply.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
Z2JH = ROOT / "workshop" / "zero-to-jupyterhub" / "values.yaml"
BINDERHUB = ROOT / "workshop" / "binderhub" / "values.yaml"


def closed(**properties) -> dict:
    """An object the chart declares with ``additionalProperties: false``."""
    return {"type": "object", "additionalProperties": False, "properties": properties}


OPEN = {"type": "object", "additionalProperties": True}
BOOL, INT, STR = {"type": "boolean"}, {"type": ["integer", "null"]}, {"type": ["string", "null"]}
ENV = {"type": ["object", "array"]}
IMAGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "tag"],
    "properties": {
        "name": {"type": "string"},
        "tag": {"type": "string"},
        "pullPolicy": {"enum": [None, "", "IfNotPresent", "Always", "Never"]},
        "pullSecrets": {"type": "array"},
    },
}

JUPYTERHUB_CHART = closed(
    hub=closed(config=OPEN, loadRoles=OPEN, extraConfig=OPEN, extraEnv=ENV, services=OPEN),
    singleuser=closed(
        image=IMAGE,
        defaultUrl=STR,
        extraEnv=ENV,
        cmd={"type": ["array", "string", "null"]},
        memory=closed(limit={"type": ["number", "string", "null"]}, guarantee={"type": ["number", "string", "null"]}),
        cpu=closed(limit={"type": ["number", "null"]}, guarantee={"type": ["number", "null"]}),
        storage=closed(
            type={"enum": ["dynamic", "static", "none"]},
            capacity=STR,
            homeMountPath={"type": "string"},
        ),
        startTimeout=INT,
    ),
    cull=closed(
        enabled=BOOL,
        users={"type": ["boolean", "null"]},
        adminUsers={"type": ["boolean", "null"]},
        removeNamedServers={"type": ["boolean", "null"]},
        timeout=INT,
        every=INT,
        concurrency=INT,
        maxAge=INT,
    ),
    prePuller=closed(
        hook=closed(enabled=BOOL, pullOnlyOnChanges=BOOL),
        continuous=closed(enabled=BOOL),
    ),
    scheduling=closed(
        userScheduler=closed(enabled=BOOL, replicas={"type": "integer"}),
        podPriority=closed(enabled=BOOL, globalDefault=BOOL, defaultPriority={"type": "integer"}),
        userPlaceholder=closed(enabled=BOOL, replicas={"type": "integer"}),
    ),
)

BINDERHUB_CHART = {
    **closed(
        config={
            "type": "object",
            "additionalProperties": False,
            "patternProperties": {".*": {"type": ["object", "null"], "additionalProperties": True}},
        },
        service=closed(type={"type": "string"}, port={"type": "integer"}, nodePort={"type": "integer"}),
        ingress=closed(enabled=BOOL, hosts={"type": "array"}, ingressClassName=STR),
        # The dependency chart's values. binderhub's schema source does not list this key; helm validates a
        # subchart's values against the subchart's schema, which the next test does with the jupyterhub one.
        jupyterhub=OPEN,
    )
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize(("path", "schema"), [(Z2JH, JUPYTERHUB_CHART), (BINDERHUB, BINDERHUB_CHART)])
def test_values_fit_the_charts_schema(path, schema):
    jsonschema.validate(load(path), schema)


def test_binderhubs_jupyterhub_values_fit_the_jupyterhub_chart():
    jsonschema.validate(load(BINDERHUB)["jupyterhub"], JUPYTERHUB_CHART)


def test_the_schema_catches_a_misplaced_key():
    """The check would fail a real mistake: a key the chart does not have, at a level where it has none."""
    values = load(Z2JH)
    values["singleuser"]["memory"]["request"] = "384M"  # Kubernetes' word; the chart's is guarantee
    with pytest.raises(jsonschema.ValidationError, match="request"):
        jsonschema.validate(values, JUPYTERHUB_CHART)
    values = load(Z2JH)
    values["cull"]["timeout"] = "1h"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, JUPYTERHUB_CHART)


def test_the_image_is_pinned_to_this_version():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    image = load(Z2JH)["singleuser"]["image"]
    assert image["tag"] == version
    assert image["tag"] != "latest"


def _bytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([KMG]i?)", quantity).groups()
    return int(number) * {"K": 10**3, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}[unit]


def test_both_deployments_guarantee_what_an_attendee_was_measured_to_use():
    """The guarantee covers the per-attendee memory docs/workshops.md reports (from benchmarks/workshop.py)."""
    docs = (ROOT / "docs" / "workshops.md").read_text()
    measured_mib = int(re.search(r"per attendee: (\d+) MiB", docs).group(1))
    for singleuser in (load(Z2JH)["singleuser"], load(BINDERHUB)["jupyterhub"]["singleuser"]):
        guarantee, limit = _bytes(singleuser["memory"]["guarantee"]), _bytes(singleuser["memory"]["limit"])
        assert measured_mib * 2**20 <= guarantee < limit
        assert singleuser["extraEnv"]["ECRLAB_MODE"] == "sandbox"
        assert singleuser["extraEnv"]["ECRLAB_PROGRESS_DIR"].endswith("/ecrlab-progress")


def test_idle_servers_are_culled():
    for cull in (load(Z2JH)["cull"], load(BINDERHUB)["jupyterhub"]["cull"]):
        assert cull["enabled"] is True
        assert 0 < cull["timeout"] <= 3600


def test_the_hub_config_snippet_is_python():
    for name, code in load(Z2JH)["hub"]["extraConfig"].items():
        compile(code, name, "exec")


def test_the_instructor_role_matches_the_one_machine_hub():
    """The instructor's scopes are the same on one machine and on Kubernetes."""
    source = (ROOT / "workshop" / "jupyterhub_config.py").read_text()
    scopes = re.search(r"INSTRUCTOR_SCOPES = (\[.*?\])", source).group(1)
    role = load(Z2JH)["hub"]["loadRoles"]["instructor"]
    assert role["scopes"] == yaml.safe_load(scopes)
    snippet = "".join(load(Z2JH)["hub"]["extraConfig"].values())
    assert all(f'"{scope}"' in snippet for scope in role["scopes"])
