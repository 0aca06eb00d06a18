"""The data directory in one process: every model field kept, the schema migrated, the directory locked,
and a lab's state (API and registry) the same after a restart."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import types
import typing
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

import ecrlab
from ecrlab.clock import LabClock
from ecrlab.ecr import model
from ecrlab.ecr.engine import Engine
from ecrlab.ecr.model import DestinationStatus, ImageRecord, Principal, Registry, Repository
from ecrlab.ecr.persist import MIGRATIONS, SCHEMA_VERSION, TRANSIENT, DataDir, decode, encode
from ecrlab.errors import DataDirLocked, LabError
from ecrlab.images import ImageBuilder, RegistryClient

T0 = datetime(2024, 2, 29, 13, 14, 15, 123000, tzinfo=timezone.utc)


# -- a value for every field, from the model's own annotations ------------------------------------------
def _field_types(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.name in TRANSIENT.get(cls, ()):
            continue
        try:
            out[f.name] = eval(f.type, vars(model)) if isinstance(f.type, str) else f.type
        except NameError as exc:
            pytest.fail(f"{cls.__name__}.{f.name}: its type {f.type!r} is not one a data directory can keep ({exc})")
    return out


def _value(tp: Any, n: int) -> Any:
    """A value of type ``tp`` that no default has (``n`` varies it)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return _value(next(a for a in args if a is not type(None)), n)
    if tp is str:
        return f"value-{n}"
    if tp is bool:
        return n % 2 == 0
    if tp is int:
        return 1000 + n
    if tp is float:
        return 0.5 + n
    if tp is bytes:
        return bytes([0, 255, n % 256]) + b'{"manifest": true}'
    if tp is datetime:
        return T0 + timedelta(seconds=n)
    if tp is Any:
        return {"any": [n, "x"]}
    if isinstance(tp, type) and issubclass(tp, Enum):
        return list(tp)[-1]
    if origin is list:
        return [_value(args[0], n), _value(args[0], n + 1)]
    if origin is dict:
        return {_value(args[0], n): _value(args[1], n + 2)}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return (_value(args[0], n), _value(args[0], n + 1))
        return tuple(_value(a, n + i) for i, a in enumerate(args))
    if dataclasses.is_dataclass(tp):
        return _instance(tp, n)
    pytest.fail(f"no test value for {tp!r}: teach _value() about it (and check the codec keeps it)")


def _instance(cls: type, n: int) -> Any:
    values = {name: _value(tp, n + i) for i, (name, tp) in enumerate(_field_types(cls).items())}
    obj = cls(**values)
    for f in dataclasses.fields(cls):
        if f.name in values and f.default is not dataclasses.MISSING and values[f.name] == f.default:
            # A bool whose default the parity picked: flip it, so losing it would show.
            object.__setattr__(obj, f.name, not values[f.name])
    return obj


def _open(path: Path) -> Engine:
    engine = Engine(LabClock(deterministic=True), seed=1)
    engine.keep_state_in(path)
    return engine


def test_every_model_field_survives_a_restart(tmp_path: Path) -> None:
    registry = _instance(Registry, 1)
    repo = _instance(Repository, 20)
    repo.account, repo.region = registry.account, registry.region
    image = _instance(ImageRecord, 40)
    repo.images = {image.digest: image}
    registry.repositories = {repo.name: repo}
    token_holder = _instance(Principal, 60)
    engine = _open(tmp_path)
    with engine.lock:  # released: committed
        engine.registries[(registry.account, registry.region)] = registry
        engine.tokens["password"] = (token_holder, T0)
        engine.next_sequence()
    engine.close()

    again = _open(tmp_path)
    kept = again.registries[(registry.account, registry.region)]
    expected_repo = dataclasses.replace(repo, layer_uploads={}, lifecycle_preview=None)
    assert kept.repositories == {repo.name: expected_repo}
    assert dataclasses.replace(kept, repositories={}) == dataclasses.replace(
        registry, repositories={}, download_urls={}
    )
    for cls, obj in ((Registry, kept), (Repository, kept.repositories[repo.name]), (ImageRecord, image)):
        for name in _field_types(cls):
            assert getattr(obj, name) != getattr(cls(**_required(cls)), name, object()), f"{cls.__name__}.{name}"
    assert again.tokens == {"password": (token_holder, T0)}
    assert again.next_sequence() == 2
    again.close()


def _required(cls: type) -> dict[str, Any]:
    """The fields a model class needs to be built, with throwaway values (for its defaults)."""
    return {
        f.name: None
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }


def test_codec_keeps_types_json_lacks() -> None:
    status = DestinationStatus("210987654321", "eu-west-1", "COMPLETE", T0)
    value = {("app", "sha256:ab"): {("210987654321", "eu-west-1"): status}, "$odd": b"\x00", "t": (1, "x")}
    assert decode(json.loads(json.dumps(encode(value)))) == value
    with pytest.raises(TypeError, match="where.x: cannot keep a object"):
        encode({"x": object()}, "where")


def test_transient_fields_are_dropped(tmp_path: Path) -> None:
    engine = _open(tmp_path)
    with engine.lock:
        registry = engine.registry("123456789012", "us-east-1")
        registry.download_urls["t"] = ("app", "sha256:" + "a" * 64, T0)
        registry.repositories["app"] = Repository("app", "123456789012", "us-east-1", T0, layer_uploads={"u": [5]})
    engine.close()
    again = _open(tmp_path)
    kept = again.registries[("123456789012", "us-east-1")]
    assert kept.download_urls == {} and kept.repositories["app"].layer_uploads == {}
    again.close()


def test_replication_in_progress_at_a_crash_is_reported_failed(tmp_path: Path) -> None:
    engine = _open(tmp_path)
    with engine.lock:
        registry = engine.registry("123456789012", "us-east-1")
        registry.replication_statuses[("app", "sha256:" + "b" * 64)] = {
            ("123456789012", "eu-west-1"): DestinationStatus("123456789012", "eu-west-1", "IN_PROGRESS", T0),
            ("123456789012", "us-west-2"): DestinationStatus("123456789012", "us-west-2", "COMPLETE", T0),
        }
    engine.close()
    again = _open(tmp_path)
    statuses = again.registries[("123456789012", "us-east-1")].replication_statuses[("app", "sha256:" + "b" * 64)]
    assert statuses[("123456789012", "eu-west-1")].status == "FAILED"
    assert "restarted" in (statuses[("123456789012", "eu-west-1")].reason or "")
    assert statuses[("123456789012", "us-west-2")].status == "COMPLETE"
    again.close()


def test_a_restore_in_progress_at_a_crash_is_undone(tmp_path: Path) -> None:
    engine = _open(tmp_path)
    with engine.lock:
        repo = Repository("app", "123456789012", "us-east-1", T0)
        engine.registry("123456789012", "us-east-1").repositories["app"] = repo
        activating = dataclasses.replace(_image_record(1), status="ACTIVATING", restore_id=3)
        repo.images = {activating.digest: activating, _image_record(2).digest: _image_record(2)}
    engine.close()
    again = _open(tmp_path)
    kept = again.registries[("123456789012", "us-east-1")].repositories["app"].images
    assert [(i.status, i.restore_id) for i in kept.values()] == [("ARCHIVED", 4), ("ACTIVE", 0)]
    again.close()


def test_an_older_schema_is_migrated(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "ecrlab.db", isolation_level=None)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    repo = Repository("old/app", "123456789012", "us-east-1", T0, tags={"team": "a"})
    fields = {f.name: getattr(repo, f.name) for f in dataclasses.fields(repo) if f.name not in TRANSIENT[Repository]}
    db.execute(
        "INSERT INTO registries VALUES (?, ?, ?)",
        ["123456789012", "us-east-1", '{"account": "123456789012", "region": "us-east-1"}'],
    )
    db.execute(
        "INSERT INTO repositories VALUES (?, ?, ?, ?)",
        ["123456789012", "us-east-1", "old/app", json.dumps(encode(fields))],
    )
    db.close()

    engine = _open(tmp_path)
    assert engine.registries[("123456789012", "us-east-1")].repositories["old/app"] == repo
    assert engine.next_sequence() == 1  # no state row in version 1: numbering starts afresh
    engine.close()
    db = sqlite3.connect(tmp_path / "ecrlab.db")
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert db.execute("SELECT count(*) FROM state").fetchone() == (1,)
    db.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "ecrlab.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LabError, match="written by a newer ecrlab"):
        DataDir(tmp_path)
    DataDir(tmp_path / "other").close()  # and the refusal let go of the lock it took: nothing held


def test_a_second_holder_is_refused_with_the_pid(tmp_path: Path) -> None:
    first = DataDir(tmp_path)
    with pytest.raises(DataDirLocked, match=rf"in use by another ecrlab process \(pid {os.getpid()}\)"):
        DataDir(tmp_path)
    first.close()
    DataDir(tmp_path).close()  # free again once the first let go


def test_a_lab_comes_back_as_it_was(tmp_path: Path) -> None:
    """What the API and the registry show is the same after a restart, byte for byte."""
    image = ImageBuilder().copy_bytes(b"kept\n", "/kept.txt").build()
    with ecrlab.start(deterministic=True, data_dir=tmp_path) as lab:
        ecr = lab.client("ecr")
        ecr.create_repository(repositoryName="team/app", tags=[{"Key": "team", "Value": "a"}])
        ecr.put_lifecycle_policy(
            repositoryName="team/app",
            lifecyclePolicyText=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "selection": {
                                "tagStatus": "untagged",
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": 3,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        )
        ecr.put_registry_scanning_configuration(
            scanType="BASIC",
            rules=[
                {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "team/*", "filterType": "WILDCARD"}]}
            ],
        )
        ecr.put_image_tag_mutability(repositoryName="team/app", imageTagMutability="IMMUTABLE")
        with RegistryClient.for_lab(lab) as registry:
            registry.push(image, "team/app", "v1")
            registry.push(ImageBuilder().copy_bytes(b"second\n", "/second.txt").build(), "team/app", "v2")
        # Changes to the first image and the first repository rewrite their rows: the order must not change.
        ecr.create_repository(repositoryName="team/other")
        ecr.tag_resource(
            resourceArn=ecr.describe_repositories()["repositories"][0]["repositoryArn"],
            tags=[{"Key": "stage", "Value": "prod"}],
        )
        ecr.put_image(repositoryName="team/app", imageManifest=image.manifest.decode(), imageTag="first")
        ecr.batch_get_image(repositoryName="team/app", imageIds=[{"imageTag": "v1"}])  # a pull time
        lab.clock.advance(days=1)
        before = _views(ecr)
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        clock_before = lab.clock.now()
    with ecrlab.start(deterministic=True, data_dir=tmp_path) as lab:
        ecr = lab.client("ecr")
        assert _views(ecr) == before
        assert lab.clock.now() >= clock_before - timedelta(seconds=1)
        # A password issued before the restart still logs in, as a 12-hour ECR token would.
        with RegistryClient(lab.registry, token) as registry:
            manifest, _ = registry.get_manifest("team/app", "v1")
            assert manifest == image.manifest
            assert registry.pull("team/app", "v1").digest == image.digest
        with pytest.raises(Exception, match="ImageAlreadyExistsException"):
            ecr.put_image(repositoryName="team/app", imageManifest=image.manifest.decode(), imageTag="v1")


def _views(ecr: Any) -> dict[str, Any]:
    return {
        "repositories": ecr.describe_repositories()["repositories"],
        # Scan results are not kept (docs/serve.md): everything else of an image is.
        "images": [
            {k: v for k, v in detail.items() if not k.startswith("imageScan")}
            for detail in ecr.describe_images(repositoryName="team/app")["imageDetails"]
        ],
        "lifecycle": ecr.get_lifecycle_policy(repositoryName="team/app")["lifecyclePolicyText"],
        "scanning": ecr.get_registry_scanning_configuration()["scanningConfiguration"],
        "tags": ecr.list_tags_for_resource(resourceArn=ecr.describe_repositories()["repositories"][0]["repositoryArn"]),
        "listed": ecr.list_images(repositoryName="team/app")["imageIds"],
    }


def _image_record(n: int) -> ImageRecord:
    return ImageRecord(f"sha256:{n:064x}", b"{}", "application/vnd.oci.image.manifest.v1+json", T0, 10, [f"v{n}"])


def test_deletions_are_kept_even_after_a_failed_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _open(tmp_path)
    with engine.lock:
        registry = engine.registry("123456789012", "us-east-1")
        for name in ("a", "b"):
            repo = registry.repositories[name] = Repository(name, "123456789012", "us-east-1", T0)
            repo.images = {i.digest: i for i in (_image_record(1), _image_record(2))}
    # A write that fails (a full disk, say) leaves the change in memory and the caller told.
    from ecrlab.ecr import persist

    real_encode = persist.encode
    monkeypatch.setattr(persist, "encode", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"), engine.lock:
        del registry.repositories["b"]
        del registry.repositories["a"].images[_image_record(1).digest]
    monkeypatch.setattr(persist, "encode", real_encode)
    with engine.lock:  # the next commit writes everything again, deletions included
        registry.repositories["a"].images[_image_record(2).digest].tags.append("latest")
    engine.close()

    again = _open(tmp_path)
    kept = again.registries[("123456789012", "us-east-1")].repositories
    assert list(kept) == ["a"]
    assert [(i.digest, i.tags) for i in kept["a"].images.values()] == [(_image_record(2).digest, ["v2", "latest"])]
    again.close()
    db = sqlite3.connect(tmp_path / "ecrlab.db")
    assert db.execute("SELECT repository, count(*) FROM images GROUP BY repository").fetchall() == [("a", 1)]
    db.close()


def test_repositories_and_images_come_back_in_their_order_of_arrival(tmp_path: Path) -> None:
    engine = _open(tmp_path)
    with engine.lock:
        registry = engine.registry("123456789012", "us-east-1")
        for n, name in enumerate(("zeta", "alpha")):  # created in that order, not by name
            registry.repositories[name] = Repository(name, "123456789012", "us-east-1", T0 + timedelta(seconds=n))
        images = [dataclasses.replace(_image_record(n), sequence=10 - n) for n in (1, 2, 3)]
        registry.repositories["alpha"].images = {i.digest: i for i in reversed(images)}
    with engine.lock:  # rewriting the first rows moves them to the table's end
        registry.repositories["zeta"].tags["k"] = "v"
        images[2].tags.append("moved")
    engine.close()
    again = _open(tmp_path)
    kept = again.registries[("123456789012", "us-east-1")].repositories
    assert list(kept) == ["zeta", "alpha"]
    assert list(kept["alpha"].images) == [i.digest for i in reversed(images)]
    again.close()


def test_a_reading_hold_writes_nothing_and_a_change_inside_one_is_kept(tmp_path: Path) -> None:
    engine = _open(tmp_path)
    commits: list[int] = []
    real_commit = engine.lock._commit
    engine.lock._commit = lambda: (commits.append(1), real_commit())[1]
    with engine.reading():
        engine.registries.get(("123456789012", "us-east-1"))
    assert commits == []
    with engine.lock:
        engine.registry("123456789012", "us-east-1")
    assert commits == [1]
    # A change made under an ordinary hold nested in a reading one is still written when the reading one ends.
    with engine.reading(), engine.lock:
        registry = engine.registry("123456789012", "us-east-1")
        registry.repositories["kept"] = Repository("kept", "123456789012", "us-east-1", T0)
    assert commits == [1, 1]
    engine.close()
    again = _open(tmp_path)
    assert list(again.registries[("123456789012", "us-east-1")].repositories) == ["kept"]
    again.close()
