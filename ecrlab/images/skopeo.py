"""Copy an image to a registry with skopeo, the way a learner would type it, password kept out of sight.

skopeo reads the image from an OCI layout folder (written by :func:`ecrlab.images.layout.write_layout`)
and pushes it with ``--dest-creds AWS:<password>``. The command is returned with the password replaced
by ``$(aws ecr get-login-password)`` and the temporary folder by ``.``, as one would write it in a shell.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ecrlab.errors import LabError, RegistryClientError
from ecrlab.images.layout import write_layout
from ecrlab.images.oci import Image, ImageIndex

__all__ = ["SkopeoCopy", "skopeo_copy"]


@dataclass(frozen=True)
class SkopeoCopy:
    command: str
    destination: str

    def __str__(self) -> str:
        return f"$ {self.command}"


@contextmanager
def _quiet_https_probes() -> Iterator[None]:
    # skopeo tries HTTPS before falling back to plain HTTP (which the sandbox speaks on the loopback);
    # the sandbox's server would log each probe as an invalid request, which is noise for a learner.
    logger = logging.getLogger("uvicorn.error")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def skopeo_copy(
    image: Image | ImageIndex,
    registry: str,
    repository: str,
    tag: str,
    *,
    password: str | None = None,
    timeout: float = 300,
) -> SkopeoCopy:
    """``skopeo copy oci:<layout> docker://<registry>/<repository>:<tag>``, run for real."""
    program = shutil.which("skopeo")
    if program is None:
        raise LabError("skopeo is not installed here (Debian/Ubuntu: apt-get install skopeo)")
    destination = f"docker://{registry}/{repository}:{tag}"
    with tempfile.TemporaryDirectory(prefix="ecrlab-skopeo-") as tmp:
        write_layout(image, Path(tmp) / "image", tag)
        args = ["copy", "--insecure-policy", "--all", "--dest-tls-verify=false"]
        if password is not None:
            args += ["--dest-creds", f"AWS:{password}"]
        args += [f"oci:{tmp}/image:{tag}", destination]
        with _quiet_https_probes():
            done = subprocess.run([program, *args], capture_output=True, text=True, timeout=timeout, check=False)
        shown = " ".join(["skopeo", *args]).replace(tmp, ".")
        if password is not None:
            shown = shown.replace(password, "$(aws ecr get-login-password)")
        if done.returncode != 0:
            message = done.stderr.replace(tmp, ".").strip().splitlines()[-1] if done.stderr.strip() else "failed"
            raise RegistryClientError(
                f"skopeo copy failed: {message}", status=0, code="SKOPEO_FAILED", registry=registry
            )
    return SkopeoCopy(shown, destination)
