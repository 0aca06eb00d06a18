"""Concurrency with a consistency audit at the end.

Threads race pushes (chunked and monolithic, sharing layers), BatchDeleteImage, re-tags (ECR's
BatchGetImage + PutImage, and a manifest PUT under a new tag), pulls, and uploads cancelled mid-way
(some while a chunk is still streaming). Each step may lose a race with a 4xx; none may answer a 5xx.
Then the audit: every listed image pulls byte-identical (manifest and every blob), the registry's tag
list = DescribeImages' tags = ListImages' tags, and nothing orphaned is visible (no tag without its
image, no image without its blobs, no upload left behind).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from botocore.exceptions import ClientError

from ecrlab.ecr.layers import layer_links
from tests.registry.wire import MANIFEST_TYPE, connect, image_manifest, sha

REPOS = ("team/app", "team/base")
WORKERS = 8
STEPS_PER_WORKER = 8


class Race:
    """The shared state of the run: what was pushed, and how many of each step ran."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pushed: list[tuple[str, bytes]] = []  # (repository, manifest)
        self.counts: Counter[str] = Counter()

    def note(self, step: str, repo: str | None = None, manifest: bytes | None = None) -> None:
        with self.lock:
            self.counts[step] += 1
            if manifest is not None and repo is not None:
                self.pushed.append((repo, manifest))

    def pick(self, rng: random.Random) -> tuple[str, bytes] | None:
        with self.lock:
            return rng.choice(self.pushed) if self.pushed else None


def ok(response: httpx.Response, *allowed: int) -> httpx.Response:
    assert response.status_code < 500, (response.request.method, str(response.request.url), response.text)
    if allowed:
        assert response.status_code in allowed, (response.request.method, response.status_code, response.text)
    return response


def api(call, **params) -> dict | None:
    """An ECR call that may lose a race (4xx) but never fail on the server's side."""
    try:
        return call(**params)
    except ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] < 500, exc.response
        return None


def upload(http: httpx.Client, repo: str, data: bytes, chunked: bool) -> None:
    if not chunked:
        ok(http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": sha(data)}, content=data), 201)
        return
    location = ok(http.post(f"/v2/{repo}/blobs/uploads/"), 202).headers["Location"]
    half = len(data) // 2
    location = ok(http.patch(location, content=data[:half], headers={"Content-Range": f"0-{half - 1}"}), 202)
    rest = ok(
        http.patch(
            location.headers["Location"], content=data[half:], headers={"Content-Range": f"{half}-{len(data) - 1}"}
        ),
        202,
    )
    ok(http.put(rest.headers["Location"], params={"digest": sha(data)}), 201)


def worker(index: int, lab, race: Race, shared: list[bytes]) -> None:
    rng = random.Random(index)
    ecr = lab.client("ecr")
    with connect(lab, ecr) as http:
        for step in range(STEPS_PER_WORKER):
            kind = rng.choice(["push", "push", "push", "delete", "retag", "retag", "cancel", "pull"])
            repo = rng.choice(REPOS)
            if kind == "push" or race.pick(rng) is None:
                layers = [rng.choice(shared), rng.randbytes(rng.randint(1, 40_000))]
                config = f'{{"os":"linux","architecture":"amd64","author":"w{index}s{step}"}}'.encode()
                manifest, blobs = image_manifest(layers, config)
                for data in blobs.values():
                    upload(http, repo, data, chunked=rng.random() < 0.5)
                put = http.put(
                    f"/v2/{repo}/manifests/w{index}-s{step}", content=manifest, headers={"Content-Type": MANIFEST_TYPE}
                )
                ok(put, 201)
                race.note("push", repo, manifest)
            elif kind == "delete":
                repo, manifest = race.pick(rng)  # type: ignore[misc]
                api(ecr.batch_delete_image, repositoryName=repo, imageIds=[{"imageDigest": sha(manifest)}])
                race.note("delete")
            elif kind == "retag":
                repo, manifest = race.pick(rng)  # type: ignore[misc]
                tag = f"re-{index}-{step}"
                if rng.random() < 0.5:
                    found = api(ecr.batch_get_image, repositoryName=repo, imageIds=[{"imageDigest": sha(manifest)}])
                    if found and found["images"]:
                        body = found["images"][0]["imageManifest"]
                        api(ecr.put_image, repositoryName=repo, imageManifest=body, imageTag=tag)
                else:
                    put = http.put(
                        f"/v2/{repo}/manifests/{tag}", content=manifest, headers={"Content-Type": MANIFEST_TYPE}
                    )
                    # 400 MANIFEST_BLOB_UNKNOWN is not possible: blobs stay linked after a delete.
                    ok(put, 201)
                race.note("retag")
            elif kind == "cancel":
                location = ok(http.post(f"/v2/{repo}/blobs/uploads/"), 202).headers["Location"]
                first, second = rng.randbytes(20_000), rng.randbytes(5_000)
                ok(http.patch(location, content=first, headers={"Content-Range": "0-19999"}), 202)
                # The cancel races a second chunk still streaming: either may win, both stay 4xx-or-better.
                racing = threading.Thread(
                    target=lambda url=location, body=second: ok(
                        http.patch(url, content=body, headers={"Content-Range": "20000-24999"})
                    )
                )
                racing.start()
                ok(http.delete(location), 204, 404)
                racing.join()
                ok(http.delete(location), 404)
                race.note("cancel")
            else:
                repo, manifest = race.pick(rng)  # type: ignore[misc]
                pulled = ok(http.get(f"/v2/{repo}/manifests/{sha(manifest)}"), 200, 404)
                if pulled.status_code == 200:
                    assert pulled.content == manifest
                race.note("pull")


def pages(call, key: str, **params) -> list[dict]:
    out: list[dict] = []
    while True:
        page = call(**params)
        out.extend(page[key])
        if not page.get("nextToken"):
            return out
        params["nextToken"] = page["nextToken"]


def registry_tags(http: httpx.Client, repo: str) -> list[str]:
    found, last = [], None
    while True:
        params = {"n": 7, **({"last": last} if last else {})}
        page = ok(http.get(f"/v2/{repo}/tags/list", params=params), 200).json()["tags"]
        found.extend(page)
        if len(page) < 7:
            return found
        last = page[-1]


def audit(lab, ecr, http: httpx.Client) -> dict[str, int]:
    checked: Counter[str] = Counter()
    for repo in REPOS:
        listed = pages(ecr.list_images, "imageIds", repositoryName=repo)
        described = pages(ecr.describe_images, "imageDetails", repositoryName=repo)
        list_pairs = {(i["imageDigest"], i["imageTag"]) for i in listed if "imageTag" in i}
        describe_pairs = {(d["imageDigest"], t) for d in described for t in d.get("imageTags", [])}
        assert list_pairs == describe_pairs
        assert {i["imageDigest"] for i in listed} == {d["imageDigest"] for d in described}
        tags = registry_tags(http, repo)
        assert tags == sorted(tags) and set(tags) == {t for _, t in list_pairs} and len(tags) == len(list_pairs)
        for digest, tag in list_pairs:  # every tag names the image ListImages pairs it with
            assert ok(http.head(f"/v2/{repo}/manifests/{tag}"), 200).headers["Docker-Content-Digest"] == digest
        for digest in {d["imageDigest"] for d in described}:
            manifest = ok(http.get(f"/v2/{repo}/manifests/{digest}"), 200).content
            assert sha(manifest) == digest
            doc = json.loads(manifest)
            for descriptor in [doc["config"], *doc["layers"]]:
                data = ok(http.get(f"/v2/{repo}/blobs/{descriptor['digest']}"), 200).content
                assert sha(data) == descriptor["digest"] and len(data) == descriptor["size"]
                checked["blobs"] += 1
            checked["images"] += 1
        # No orphan: no tag without its image, no image without its linked blobs.
        with lab.engine.lock:
            state = lab.engine.repository(lab.account_id, lab.region, repo)
            assert set(state.image_tags.values()) <= set(state.images)
            for digest, image in state.images.items():
                assert set(image.tags) == {t for t, d in state.image_tags.items() if d == digest}
            assert layer_links(state)  # the pushes linked their blobs
        checked["tags"] += len(tags)
    # No upload left behind: every one was finished or cancelled.
    assert lab.engine.blobs.store(lab.account_id, lab.region).uploads == {}
    return dict(checked)


def test_concurrent_pushes_deletes_retags_and_cancels_stay_consistent(lab, ecr):
    for repo in REPOS:
        ecr.create_repository(repositoryName=repo)
    shared = [random.Random(n).randbytes(60_000 + n) for n in range(3)]
    race = Race()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for future in [pool.submit(worker, i, lab, race, shared) for i in range(WORKERS)]:
            future.result()
    with connect(lab, ecr) as http:
        checked = audit(lab, ecr, http)
    # Every kind of step ran, and the audit looked at real content.
    assert set(race.counts) == {"push", "delete", "retag", "cancel", "pull"}, race.counts
    assert sum(race.counts.values()) == WORKERS * STEPS_PER_WORKER
    assert checked["images"] > 0 and checked["blobs"] > checked["images"]
    print(f"concurrency audit: steps {dict(race.counts)}, audited {checked}")
