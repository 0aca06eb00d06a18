"""Property-based suite for the registry's routes, from the OCI Distribution spec.

Random methods, paths, names, references, digests, headers, credentials and bodies (including huge
and deeply nested JSON) against every route. Whatever arrives, the registry answers:
- never a 5xx, never Python's traceback text;
- every error shaped as the spec's catalogue (``{"errors": [{"code", "message"[, "detail"]}]}``, a
  code from the catalogue);
- after an error, the state is what it was: the same tags, images and blobs in every repository.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecrlab.ecr.layers import layer_links
from ecrlab.registry.errors import CATALOGUE
from tests.registry.wire import MANIFEST_TYPE, connect, image_manifest, push_image, sha

REPOS = ("team/app", "team/other")
LAYER = b"a layer both the seed image and the generated manifests use"
SEED_MANIFEST, SEED_BLOBS = image_manifest([LAYER])
SETTINGS = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world(lab, ecr):
    """Two repositories, a tagged image, a loose blob and an open upload; a logged-in client."""
    for name in REPOS:
        ecr.create_repository(repositoryName=name)
    http = connect(lab, ecr)
    push_image(http, "team/app", "v1", [LAYER])
    upload = http.post("/v2/team/app/blobs/uploads/").headers["Location"].rsplit("/", 1)[1]
    token = http.headers["Authorization"]
    yield {"lab": lab, "http": http, "upload": upload, "token": token}
    http.close()


def snapshot(lab) -> dict[str, object]:
    """Tags, images and blobs of every repository: what no failed request may change."""
    with lab.engine.lock:
        registry = lab.engine.registry(lab.account_id, lab.region)
        return {
            name: (dict(repo.image_tags), sorted(repo.images), dict(layer_links(repo)))
            for name, repo in registry.repositories.items()
        }


# -- strategies -------------------------------------------------------------------------------------
def encoded(text: str) -> str:
    return quote(text, safe="/:")


digests = st.one_of(
    st.sampled_from(
        [
            sha(LAYER),
            sha(SEED_MANIFEST),
            sha(b"never pushed"),
            "sha256:" + sha(LAYER)[7:].upper(),
            "sha512:" + "a" * 128,
            "sha256:",
            "sha256:abc",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
        ]
    ),
    st.builds(lambda d, junk: d + junk, st.just(sha(LAYER)), st.sampled_from(["\n", "\t", "\r\n", " ", "\x00"])),
)
tags = st.one_of(
    st.sampled_from(["v1", "v2", "latest", ".hidden", "-dash", "a" * 128, "a" * 129, "café", "a/b", "v1\n", "\x7f"]),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x2FF), min_size=0, max_size=40),
)
references = st.one_of(tags, digests)
names = st.one_of(
    st.sampled_from(
        [
            "team/app",
            "team/other",
            "Team/App",
            "missing/repo",
            "a",
            "team//app",
            "../team/app",
            "team/app\n",
            "team/app\t",
            "x" * 300,
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x17F), min_size=1, max_size=30),
)


@st.composite
def paths(draw: st.DrawFn, upload: str) -> str:
    name = draw(names)
    tail = draw(
        st.one_of(
            st.just("blobs/uploads/"),
            st.builds(lambda r: f"blobs/uploads/{r}", st.one_of(st.just(upload), references)),
            st.builds(lambda r: f"blobs/{r}", references),
            st.builds(lambda r: f"manifests/{r}", references),
            st.just("tags/list"),
            st.builds(lambda r: f"referrers/{r}", references),
            st.text(max_size=20),
        )
    )
    prefix = draw(st.sampled_from(["/v2/", "/v2/", "/v2/", "/v2", "/", "/ecrlab-layers/", "/v1/"]))
    return encoded(prefix + name + "/" + tail)


queries = st.dictionaries(
    st.sampled_from(["digest", "mount", "from", "n", "last", "artifactType"]),
    st.one_of(references, names, st.sampled_from(["-1", "0", "1", "99999999999999999999", ""])),
    max_size=3,
)
headers = st.dictionaries(
    st.sampled_from(["Content-Range", "Content-Type", "Range", "Accept"]),
    st.one_of(
        st.sampled_from(
            [
                "0-0",
                "5-1",
                "0-99999999999999999999",
                "bytes=0-",
                "bytes=-5",
                "bytes=0-1,3-4",
                "x",
                MANIFEST_TYPE,
                "application/vnd.oci.image.index.v1+json",
                "application/octet-stream",
            ]
        ),
        # h11 (the client) refuses header values with surrounding whitespace before sending them.
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30).map(str.strip),
    ),
    max_size=3,
)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


manifest_docs = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=256),
    st.sampled_from(
        [
            b"[" * 100_000,
            nested(5_000),
            b'{"a":' * 20_000,
            SEED_MANIFEST,
            b'{"schemaVersion": 2, "manifests": [{}]}',
            b'{"schemaVersion": 2, "mediaType": 7}',
            b"\xff\xfe not utf-8",
            b"{}" + b" " * (4 * 1024 * 1024 + 1),  # larger than ECR's 4 MiB manifest limit
        ]
    ),
    manifest_docs.map(lambda doc: json.dumps(doc).encode()),
    st.fixed_dictionaries(
        {"schemaVersion": st.sampled_from([1, 2, "2", None]), "config": manifest_docs, "layers": manifest_docs}
    ).map(lambda doc: json.dumps(doc).encode()),
)
credentials = st.sampled_from(["valid"] * 6 + ["none", "garbage", "wrong-user", "bearer"])


def authorization(kind: str, token: str) -> dict[str, str]:
    return {
        "valid": {"Authorization": token},
        "none": {},
        "garbage": {"Authorization": "Basic !!!not-base64"},
        "wrong-user": {"Authorization": "Basic dXNlcjpwYXNz"},  # user:pass
        "bearer": {"Authorization": "Bearer abc"},
    }[kind]


# -- checks -----------------------------------------------------------------------------------------
def check_answer(response, method: str) -> None:
    context = (method, str(response.request.url), response.status_code, response.text[:300])
    assert response.status_code < 500, context
    assert "Traceback" not in response.text and 'File "' not in response.text, context
    if response.status_code >= 400 and method != "HEAD":
        body = response.json()
        assert set(body) == {"errors"} and isinstance(body["errors"], list) and body["errors"], context
        for error in body["errors"]:
            assert set(error) <= {"code", "message", "detail"}, context
            assert error["code"] in CATALOGUE and isinstance(error["message"], str) and error["message"], context


def send(world, method, path, params, extra, body, kind="valid"):
    http = world["http"]
    request_headers = {**extra, **authorization(kind, world["token"])}
    request = http.build_request(method, path, params=params, headers=request_headers, content=body)
    if kind != "valid":
        request.headers.pop("Authorization", None)
        request.headers.update(authorization(kind, world["token"]))
    return http.send(request)


def check_request(world, method, path, params, extra, body, kind="valid") -> None:
    before = snapshot(world["lab"])
    response = send(world, method, path, params, extra, body, kind)
    check_answer(response, method)
    if response.status_code >= 400:
        assert snapshot(world["lab"]) == before, (method, path, params, extra, response.text[:300])


# -- properties -------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data())
def test_any_request_to_any_route(world, data):
    method = data.draw(st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]))
    check_request(
        world,
        method,
        data.draw(paths(world["upload"])),
        data.draw(queries),
        data.draw(headers),
        data.draw(bodies),
        data.draw(credentials),
    )


@SETTINGS
@given(reference=references, body=bodies, content_type=st.sampled_from([MANIFEST_TYPE, "", "text/plain"]))
def test_any_manifest_put(world, reference, body, content_type):
    extra = {"Content-Type": content_type} if content_type else {}
    check_request(world, "PUT", encoded(f"/v2/team/app/manifests/{reference}"), {}, extra, body)


@SETTINGS
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["PATCH", "PATCH", "PUT", "GET", "DELETE"]),
            st.one_of(st.none(), st.tuples(st.integers(-1, 40), st.integers(-1, 40))),
            st.binary(max_size=24),
            st.one_of(st.none(), digests),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_upload_sequence(world, steps):
    """Chunks in and out of order, with lying ranges and digests, interleaved with status, finish and
    cancel: never a 5xx, and a failed step changes no tag or blob."""
    location = world["http"].post("/v2/team/app/blobs/uploads/").headers["Location"]
    for method, content_range, body, digest in steps:
        extra = {"Content-Range": f"{content_range[0]}-{content_range[1]}"} if content_range else {}
        params = {"digest": digest} if digest is not None else {}
        check_request(world, method, location, params, extra, body if method in ("PATCH", "PUT") else b"")


def test_the_suite_reaches_every_route(world):
    """The strategies above are only worth their examples if they hit real resources: the seeded
    upload, image and blob answer as expected."""
    http = world["http"]
    assert http.get(f"/v2/team/app/blobs/uploads/{world['upload']}").status_code == 204
    assert http.get(f"/v2/team/app/manifests/{sha(SEED_MANIFEST)}").status_code == 200
    assert http.head(f"/v2/team/app/blobs/{sha(LAYER)}").status_code == 200
