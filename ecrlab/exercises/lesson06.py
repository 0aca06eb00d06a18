"""Exercises for notebooks/06-image-scanning.ipynb: scan-on-push filters, a CI gate, base images, the daily limit.

The checks read the lab as a learner would (the scanning configuration, DescribeImageScanFindings,
DescribeImages) and judge by behaviour: a registry configuration is right when it scans the repositories
it should and no others, whatever its filters look like; a gate is right when it lets through exactly the
images whose finished scans hold no CRITICAL or HIGH finding. Expected answers come from the scanner and
its advisory data, never typed in.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecrlab.display import utc
from ecrlab.ecr.model import Repository
from ecrlab.errors import Incorrect, NotAttempted
from ecrlab.exercises.core import Problem, ____
from ecrlab.exercises.reset import reset_lab
from ecrlab.images import BASE_IMAGES, ImageBuilder, RegistryClient, base_image
from ecrlab.scanning import Scanner
from ecrlab.scanning.service import SCAN_QUOTA_PERIOD, repository_scanning

if TYPE_CHECKING:
    from ecrlab.lab import Lab

__all__ = ["GATE_REPOSITORY", "GATE_TAGS", "q1", "q2", "q3", "q4", "reset"]

#: The repository the CI gate is tried on, and what a right gate says about each tag (the check adds
#: ``pending``, an image whose scan is still running when the gate is asked).
GATE_REPOSITORY = "ci/app"
GATE_TAGS = {
    "critical": "Python packages with a CRITICAL finding (enhanced scan)",
    "high": "Python packages with HIGH findings (enhanced scan)",
    "medium": "an OS with MEDIUM findings at worst (basic scan)",
    "clean": "LOW findings only (basic scan)",
    "unsupported": "no OS package database (basic scan: UNSUPPORTED_IMAGE)",
    "unscanned": "never scanned",
}
_BLOCKING = ("CRITICAL", "HIGH")

# Repository names a scan-on-push filter for `team-` must (True) or must not (False) scan on push.
_TEAM_PROBES = {
    "team-web": True,
    "team-api/worker": True,
    "team-a": True,
    "steam-engine": False,
    "my-team-app": False,
    "platform/team-tools": False,
    "team": False,
    "teams": False,
    "web": False,
}


class TeamScanOnPush(Problem):
    title = (
        "Configure the registry so that basic scanning scans on push every repository whose name starts with "
        "`team-`, and no other repository."
    )
    hints = (
        (
            "`put_registry_scanning_configuration` with `scanType='BASIC'` and one rule: "
            "`scanFrequency: SCAN_ON_PUSH` and a `repositoryFilters` entry of `filterType: WILDCARD`."
        ),
        (
            "A filter without `*` matches every name that *contains* it (`team` matches `steam-engine`); "
            "anchor it at the start with a trailing wildcard: `team-*`."
        ),
    )
    solution_text = "One rule, one filter that starts with `team-`:"
    solution_code = (
        "ecr.put_registry_scanning_configuration(\n"
        "    scanType='BASIC',\n"
        "    rules=[{'scanFrequency': 'SCAN_ON_PUSH',\n"
        "            'repositoryFilters': [{'filter': 'team-*', 'filterType': 'WILDCARD'}]}],\n"
        ")\n"
        "ex.q1.check()"
    )
    wrong_answers = (
        (
            "ecr.put_registry_scanning_configuration(\n"
            "    scanType='BASIC',\n"
            "    rules=[{'scanFrequency': 'SCAN_ON_PUSH',\n"
            "            'repositoryFilters': [{'filter': 'team', 'filterType': 'WILDCARD'}]}],\n"
            ")\n"
            "ex.q1.check()"
        ),
        (
            "ecr.put_registry_scanning_configuration(\n"
            "    scanType='BASIC',\n"
            "    rules=[{'scanFrequency': 'SCAN_ON_PUSH',\n"
            "            'repositoryFilters': [{'filter': '*team-*', 'filterType': 'WILDCARD'}]}],\n"
            ")\n"
            "ex.q1.check()"
        ),
        (
            "ecr.put_registry_scanning_configuration(\n"
            "    scanType='ENHANCED',\n"
            "    rules=[{'scanFrequency': 'SCAN_ON_PUSH',\n"
            "            'repositoryFilters': [{'filter': 'team-*', 'filterType': 'WILDCARD'}]}],\n"
            ")\n"
            "ex.q1.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        ecr = lab.client("ecr")
        config = ecr.get_registry_scanning_configuration()["scanningConfiguration"]
        if config["scanType"] != "BASIC":
            raise Incorrect(
                "the registry uses ENHANCED scanning (Amazon Inspector, billed per image): the question asks for "
                "basic scanning."
            )
        if not config["rules"]:
            raise NotAttempted(
                "the registry has no scanning rule yet: add one with `put_registry_scanning_configuration`."
            )
        registry = lab.engine.registry(lab.account_id, lab.region)
        now = lab.clock.now()
        for name, wanted in _TEAM_PROBES.items():
            probe = Repository(name, lab.account_id, lab.region, now)
            scanned = repository_scanning(registry, probe).scan_on_push
            if scanned != wanted:
                raise Incorrect(
                    f"a repository named `{name}` would {'be' if scanned else 'not be'} scanned on push"
                    f"{'' if scanned else ', but its name starts with `team-`'}. "
                    "Remember: a filter without `*` matches names that contain it."
                )
        names = [
            r["repositoryName"]
            for page in ecr.get_paginator("describe_repositories").paginate()
            for r in page["repositories"]
        ]
        for start in range(0, len(names), 25):  # BatchGetRepositoryScanningConfiguration takes 25 names at most
            got = ecr.batch_get_repository_scanning_configuration(repositoryNames=names[start : start + 25])
            for setting in got["scanningConfigurations"]:
                if setting["scanOnPush"] and not setting["repositoryName"].startswith("team-"):
                    raise Incorrect(
                        f"`{setting['repositoryName']}` is still scanned on push (its own, deprecated `scanOnPush` "
                        "setting): turn it off with `put_image_scanning_configuration`."
                    )
        return "repositories named `team-…` are scanned on push; `steam-engine`, `my-team-app` and the rest are not."


class CiGate(Problem):
    title = (
        "Write `gate(repository, tag)`, a CI step that returns True only when the image's scan has finished "
        "with no CRITICAL or HIGH finding, and False otherwise (including: never scanned, still scanning)."
    )
    takes_answer = True
    hints = (
        (
            "`describe_image_scan_findings` gives `imageScanStatus` and, once a scan has finished, "
            "`imageScanFindings.findingSeverityCounts` (only the severities present are listed)."
        ),
        (
            "Three ways not to ship: `ScanNotFoundException` (never scanned), a status other than COMPLETE "
            "(ACTIVE for continuous enhanced scanning) such as IN_PROGRESS or UNSUPPORTED_IMAGE, and a CRITICAL or "
            "HIGH count."
        ),
    )
    solution_text = "Refuse unless a finished scan shows no CRITICAL or HIGH finding:"
    solution_code = (
        "def gate(repository, tag):\n"
        '    """True when the image may ship: its scan finished with no CRITICAL or HIGH finding."""\n'
        "    try:\n"
        "        found = ecr.describe_image_scan_findings(repositoryName=repository, imageId={'imageTag': tag})\n"
        "    except ecr.exceptions.ScanNotFoundException:\n"
        "        return False  # never scanned: nothing says it is safe\n"
        "    if found['imageScanStatus']['status'] not in ('COMPLETE', 'ACTIVE'):\n"
        "        return False  # still scanning, or the image could not be scanned\n"
        "    counts = found['imageScanFindings']['findingSeverityCounts']\n"
        "    return counts.get('CRITICAL', 0) == 0 and counts.get('HIGH', 0) == 0\n"
        "\n"
        "ex.q2.check(gate)"
    )
    wrong_answers = (
        (
            "def gate(repository, tag):\n"
            "    found = ecr.describe_image_scan_findings(repositoryName=repository, imageId={'imageTag': tag})\n"
            "    return found['imageScanFindings']['findingSeverityCounts'].get('CRITICAL', 0) == 0\n"
            "\n"
            "ex.q2.check(gate)"
        ),
        (
            "def gate(repository, tag):\n"
            "    try:\n"
            "        found = ecr.describe_image_scan_findings(repositoryName=repository, imageId={'imageTag': tag})\n"
            "    except ecr.exceptions.ScanNotFoundException:\n"
            "        return False\n"
            "    counts = found.get('imageScanFindings', {}).get('findingSeverityCounts', {})\n"
            "    return not counts.get('CRITICAL') and not counts.get('HIGH')\n"
            "\n"
            "ex.q2.check(gate)"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        if not callable(answer):
            raise Incorrect("pass the function itself: `ex.q2.check(gate)`, not `gate(...)`'s result.")
        ecr = lab.client("ecr")
        try:
            listed = ecr.list_images(repositoryName=GATE_REPOSITORY)["imageIds"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
                raise NotAttempted("run the exercises' set-up cell first: it prepares `ci/app`.") from None
            raise
        if not set(GATE_TAGS) <= {i.get("imageTag") for i in listed}:
            raise NotAttempted("run the exercises' set-up cell first: `ci/app` is missing some of its images.")
        _start_pending_scan(lab)
        verdicts: dict[str, bool] = {}
        for tag in (*GATE_TAGS, "pending"):
            try:
                said = answer(GATE_REPOSITORY, tag)
            except ClientError as exc:
                raise Incorrect(
                    f"for `{tag}` your gate raised {exc.response['Error']['Code']}: a gate must answer False, "
                    "not crash the pipeline."
                ) from None
            except Exception as exc:  # noqa: BLE001 - any failure of the learner's function is feedback
                raise Incorrect(f"for `{tag}` your gate raised {type(exc).__name__}: {exc}") from None
            if said is ____:
                raise NotAttempted("replace `____` in your gate with what it should return, then run the cell again.")
            if not isinstance(said, bool):
                raise Incorrect(f"for `{tag}` your gate returned {said!r}: return True or False.")
            verdicts[tag] = said
        truth = {tag: _may_ship(ecr, tag) for tag in verdicts}
        for tag, said in verdicts.items():
            if said != truth[tag]:
                what = GATE_TAGS.get(tag, "an image whose scan is still IN_PROGRESS")
                raise Incorrect(
                    f"`{tag}` ({what}) should be {'let through' if truth[tag] else 'refused'}, but your gate "
                    f"{'let it through' if said else 'refused it'}."
                )
        passed = ", ".join(t for t, ok in truth.items() if ok)
        return f"your gate lets through only {passed}, and refuses the rest."


def _start_pending_scan(lab: Lab) -> None:
    """Push a new image as ``ci/app:pending`` and start its scan, so it is IN_PROGRESS when the gate asks."""
    ecr = lab.client("ecr")
    count = len(ecr.list_images(repositoryName=GATE_REPOSITORY)["imageIds"])
    build = f"pending build {count} at {lab.clock.now().isoformat()}".encode()
    image = ImageBuilder(base_image(BASE_IMAGES[-1])).copy_bytes(build, "/app/build.txt").build()
    with RegistryClient.for_lab(lab) as client:
        client.push(image, GATE_REPOSITORY, "pending")
    try:
        ecr.start_image_scan(repositoryName=GATE_REPOSITORY, imageId={"imageTag": "pending"})
    except ClientError as exc:
        raise NotAttempted(
            f"the check could not start a scan for `ci/app:pending` ({exc.response['Error']['Code']}): "
            "manual scans need the registry on BASIC scanning."
        ) from None


def _may_ship(ecr: Any, tag: str) -> bool:
    try:
        found = ecr.describe_image_scan_findings(repositoryName=GATE_REPOSITORY, imageId={"imageTag": tag})
    except ClientError:
        return False
    if found["imageScanStatus"]["status"] not in ("COMPLETE", "ACTIVE"):
        return False
    counts = found["imageScanFindings"]["findingSeverityCounts"]
    return not any(counts.get(s) for s in _BLOCKING)


@functools.cache
def _base_image_counts(name: str) -> dict[str, int]:
    return Scanner().scan(base_image(name).layers, enhanced=False).counts


class OldestCleanBase(Problem):
    title = (
        "Which lab base image (`images.BASE_IMAGES`) is the oldest whose own basic scan finds only LOW findings "
        "(or none)? Answer with its name, e.g. `'alpine:3.20.0'`."
    )
    takes_answer = True
    hints = (
        "`images.BASE_IMAGES` lists them oldest first; `images.base_image(name)` builds one.",
        (
            "Scan each: push it to a repository and scan it, or ask the scanner the sandbox runs directly: "
            "`Scanner().scan(images.base_image(name).layers, enhanced=False).counts`."
        ),
    )
    solution_text = "Scan each lab base image, oldest first, and keep the first with only LOW (or no) findings:"
    solution_code = (
        "from ecrlab.scanning import Scanner\n"
        "\n"
        "scanner = Scanner()\n"
        "clean = [name for name in images.BASE_IMAGES\n"
        "         if set(scanner.scan(images.base_image(name).layers, enhanced=False).counts) <= {'LOW'}]\n"
        "ex.q3.check(clean[0])"
    )
    wrong_answers = (
        "ex.q3.check(images.BASE_IMAGES[-1])",
        "ex.q3.check('alpine:3.20.0')",
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        if not isinstance(answer, str) or answer not in BASE_IMAGES:
            raise Incorrect(f"answer with one of {', '.join(BASE_IMAGES)}.")
        clean = [n for n in BASE_IMAGES if set(_base_image_counts(n)) <= {"LOW"}]
        counts = _base_image_counts(answer)
        if answer not in clean:
            shown = ", ".join(f"{n} {s}" for s, n in counts.items())
            raise Incorrect(f"{answer}'s own scan finds {shown}: not only LOW.")
        if answer != clean[0]:
            raise Incorrect(f"{answer} is clean, but an older lab base image is too.")
        return (
            f"{answer}: its scan finds only {', '.join(f'{n} {s}' for s, n in counts.items()) or 'nothing'}. "
            "A patch release on the same Alpine branch is the smallest rebuild that drops the older image's findings."
        )


class RescanAfterADay(Problem):
    title = (
        "`shop/api:v1` was scanned on push. Scan it again with StartImageScan, and let that scan complete "
        "(mind ECR's one-scan-per-image-per-day limit)."
    )
    hints = (
        (
            "ECR allows one scan per image per 24 hours, and the scan on push counts: `start_image_scan` now answers "
            "`LimitExceededException`."
        ),
        "Move the lab clock on a day (`lab.clock.advance(hours=24)`), start the scan, then let it run a minute.",
    )
    solution_text = "Wait out the daily limit on the lab clock, rescan, and let the scan finish:"
    solution_code = (
        "lab.clock.advance(hours=24)\n"
        "ecr.start_image_scan(repositoryName='shop/api', imageId={'imageTag': 'v1'})\n"
        "lab.clock.advance(minutes=1)\n"
        "ex.q4.check()"
    )
    wrong_answers = (
        "lab.clock.advance(hours=24)\nex.q4.check()",
        (
            "lab.clock.advance(hours=23)\n"
            "try:\n"
            "    ecr.start_image_scan(repositoryName='shop/api', imageId={'imageTag': 'v1'})\n"
            "except ecr.exceptions.LimitExceededException as exc:\n"
            "    print(exc)\n"
            "ex.q4.check()"
        ),
    )

    def assess(self, lab: Lab, answer: Any) -> str:
        ecr = lab.client("ecr")
        try:
            found = ecr.describe_image_scan_findings(repositoryName="shop/api", imageId={"imageTag": "v1"})
            (detail,) = ecr.describe_images(repositoryName="shop/api", imageIds=[{"imageTag": "v1"}])["imageDetails"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("RepositoryNotFoundException", "ImageNotFoundException"):
                raise NotAttempted("run the exercises' set-up cell first: it pushes `shop/api:v1`.") from None
            raise
        status = found["imageScanStatus"]["status"]
        if status == "IN_PROGRESS":
            raise NotAttempted("a scan is running: move the lab clock on a minute (`lab.clock.advance(minutes=1)`).")
        completed = found["imageScanFindings"]["imageScanCompletedAt"]
        if completed - detail["imagePushedAt"] < SCAN_QUOTA_PERIOD - timedelta(minutes=1):
            raise NotAttempted(
                f"the last scan completed at {utc(completed)}, right after the push: that is still the scan on push. "
                "Start a new one with `start_image_scan` (once the daily limit allows it)."
            )
        return (
            f"rescanned: the scan completed at {utc(completed)}, "
            f"{(completed - detail['imagePushedAt']).days} day(s) after the push and its first scan."
        )


q1 = TeamScanOnPush()
q2 = CiGate()
q3 = OldestCleanBase()
q4 = RescanAfterADay()


def reset(lab: Lab) -> str:
    """Start lesson 06 over: the lab emptied (see :mod:`ecrlab.exercises.reset`) and the registry back on
    basic scanning with no rules, as a new registry is."""
    summary = reset_lab(lab)
    for face in (lab, *lab.accounts):
        face.client("ecr").put_registry_scanning_configuration(scanType="BASIC", rules=[])
    return summary
