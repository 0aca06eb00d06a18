"""The layer diagram is drawn from the real manifests."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ecrlab.images import ImageBuilder, base_image
from ecrlab.images.diagram import layer_diagram


def test_shared_base_layer_is_marked_in_text_and_svg() -> None:
    base = base_image("alpine:3.20.3")
    web = ImageBuilder(base).copy_bytes(b"web", "/web").build()
    worker = ImageBuilder(base).copy_bytes(b"worker", "/worker").build()
    diagram = layer_diagram({"web": web, "worker": worker})
    assert diagram.shared == {base.layers[0].digest: 2}
    text = repr(diagram).splitlines()
    short = base.layers[0].digest[7:19]
    assert text[0].startswith(f"web     [{short} ") and text[0].count("*") == 1
    assert text[-1].startswith(f"* {short} is shared by 2 images")
    svg = ET.fromstring(diagram._repr_svg_())
    rects = [
        r
        for r in svg.iter("{http://www.w3.org/2000/svg}rect")
        if r.find("{http://www.w3.org/2000/svg}title") is not None
    ]
    fills = {r.find("{http://www.w3.org/2000/svg}title").text: r.get("fill") for r in rects}  # type: ignore[union-attr]
    assert len(rects) == 4 and len(fills) == 3
    assert fills[base.layers[0].digest] != fills[web.layers[1].digest] == fills[worker.layers[1].digest]


def test_nothing_shared() -> None:
    diagram = layer_diagram({"a": ImageBuilder().copy_bytes(b"a", "/a").build()})
    assert repr(diagram).endswith("(no layer is shared)")
    assert "no layer is shared" in diagram._repr_svg_()
