"""Whatever a client sends, the registry answers with a client error, never a 5xx."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecrlab.oci import sha256_digest

DIGEST = sha256_digest(b"some blob")
segments = st.sampled_from(["team/app", "Team/App", "a", "team/app/x", "missing/repo", "%2e%2e", "ä"])
references = st.one_of(
    st.sampled_from(["v1", DIGEST, "sha256:", ".bad", "a" * 200]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"), max_size=20),
)
paths = st.one_of(
    st.builds(lambda n: f"/v2/{n}/blobs/uploads/", segments),
    st.builds(lambda n, r: f"/v2/{n}/blobs/uploads/{r}", segments, references),
    st.builds(lambda n, r: f"/v2/{n}/blobs/{r}", segments, references),
    st.builds(lambda n, r: f"/v2/{n}/manifests/{r}", segments, references),
    st.builds(lambda n, r: f"/v2/{n}/referrers/{r}", segments, references),
    st.builds(lambda n: f"/v2/{n}/tags/list", segments),
    st.builds(lambda r: f"/ecrlab-layers/{r}", references),
)
queries = st.dictionaries(
    st.sampled_from(["digest", "mount", "from", "n", "last", "artifactType"]), references, max_size=3
)
headers = st.dictionaries(
    st.sampled_from(["Content-Range", "Content-Type", "Range"]),
    st.sampled_from(["0-0", "5-1", "bytes=0-", "x", "application/vnd.oci.image.index.v1+json", "bytes=99-100"]),
    max_size=2,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    path=paths,
    params=queries,
    extra=headers,
    body=st.one_of(st.just(b""), st.binary(max_size=64), st.just(b'{"schemaVersion": 2, "manifests": [{}]}')),
)
def test_no_request_gets_a_server_error(registry, repo, method, path, params, extra, body):
    response = registry.http.request(method, path, params=params, headers=extra, content=body)
    assert response.status_code < 500, (method, path, params, extra, body, response.text)
