"""The Dockerfile subset: what parses, and clear errors (with line numbers) for what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecrlab.errors import EcrlabError, LabError
from ecrlab.images import DockerfileError, ImageBuilder, build_dockerfile, parse_dockerfile


def test_parse_handles_comments_continuations_and_case() -> None:
    instructions = parse_dockerfile('# syntax\n\nfrom scratch\nLABEL a=1 \\\n  # inside\n  b=2\ncmd ["/x"]\n')
    assert [(i.line, i.keyword) for i in instructions] == [(3, "FROM"), (4, "LABEL"), (7, "CMD")]
    assert instructions[1].arguments == "a=1 b=2"


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("FROM scratch\nRUN apk add curl\n", 2, "RUN is not in the subset"),
        ("COPY a /a\n", 1, "first instruction must be FROM"),
        ("FROM scratch\nFROM scratch\n", 2, "multi-stage"),
        ("FROM scratch\nFROBNICATE x\n", 2, "unknown instruction 'FROBNICATE'"),
        ('FROM scratch\nCMD ["unterminated"\n', 2, "not a JSON array"),
        ("FROM scratch\nENV =oops\n", 2, "key=value"),
        ("FROM scratch\nWORKDIR\n", 2, "WORKDIR needs arguments"),
        ("FROM scratch\nLABEL a=1 \\\n", 2, "line continuation"),
        ("FROM ubuntu:22.04\n", 1, "not a lab base image"),
        ("FROM scratch AS build\n", 1, "one image name"),
        ("FROM scratch\nCOPY --from=build /a /a\n", 2, "only --chmod"),
        ("FROM scratch\nCOPY missing.txt /m\n", 2, "not found in the build context"),
        ("FROM scratch\nCOPY a.txt b.txt /dest\n", 2, "must end with '/'"),
        ("FROM --platform=linux scratch\n", 1, "os/architecture"),
        ("", None, "no instructions"),
    ],
)
def test_errors_name_the_line(tmp_path: Path, text: str, line: int | None, match: str) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    with pytest.raises(DockerfileError, match=match) as caught:
        build_dockerfile(text=text, context=tmp_path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"Dockerfile line {line}: " if line else "Dockerfile: ")
    assert isinstance(caught.value, LabError) and isinstance(caught.value, EcrlabError)


def test_dockerfile_equals_python_calls(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello\n")
    from_file = build_dockerfile(
        text='FROM scratch\nCOPY --chmod=755 hello.txt /bin/hello\nENV GREETING="hi there"\nCMD ["/bin/hello"]\n',
        context=tmp_path,
    )
    from_calls = (
        ImageBuilder("scratch")
        .copy(
            "hello.txt", "/bin/hello", context=tmp_path, mode=0o755, created_by="COPY --chmod=755 hello.txt /bin/hello"
        )
        .env(GREETING="hi there")
        .cmd(["/bin/hello"])
        .build()
    )
    assert from_file.digest == from_calls.digest


def test_shell_form_and_legacy_env(tmp_path: Path) -> None:
    image = build_dockerfile(text="FROM scratch\nENV NAME some value\nCMD echo $NAME\n", context=tmp_path)
    config = image.config_json["config"]
    assert "NAME=some value" in config["Env"]
    assert config["Cmd"] == ["/bin/sh", "-c", "echo $NAME"]


def test_reads_dockerfile_from_context(tmp_path: Path) -> None:
    with pytest.raises(DockerfileError, match="no Dockerfile"):
        build_dockerfile(context=tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM --platform=linux/arm64 scratch\nLABEL x=y\n")
    image = build_dockerfile(context=tmp_path)
    assert str(image.platform) == "linux/arm64"
    assert image.layers == ()
