"""A picture of images and their layers, drawn from the real manifests: shared layers stand out.

``layer_diagram({"web": web, "worker": worker})`` shows one row per image, its layers from the base
(left) up, each box labelled with the layer's short digest and size. A layer that appears in more than
one image gets the same colour wherever it appears: it is one blob, stored and pushed once. Jupyter
shows the SVG; the text form (what a terminal and nbval see) says the same in words.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from ecrlab.images.oci import Image
from ecrlab.images.progress import human_size

__all__ = ["LayerDiagram", "layer_diagram"]

_SHARED_COLOURS = ("#4c9be8", "#f0a030", "#5cb85c", "#b07cc6", "#e0605a")
_OWN_COLOUR = "#d9dde3"
_BOX_W, _BOX_H, _GAP, _NAME_W, _ROW_H, _TOP = 150, 38, 10, 120, 54, 10


class LayerDiagram:
    """Images side by side with their layers; build it with :func:`layer_diagram`."""

    def __init__(self, images: Mapping[str, Image]) -> None:
        self.images = dict(images)
        counts: dict[str, int] = {}
        for image in self.images.values():
            for digest in dict.fromkeys(layer.digest for layer in image.layers):
                counts[digest] = counts.get(digest, 0) + 1
        shared = [d for d in counts if counts[d] > 1]
        self.shared: dict[str, int] = {d: counts[d] for d in shared}
        self._colour = {d: _SHARED_COLOURS[i % len(_SHARED_COLOURS)] for i, d in enumerate(shared)}

    def __repr__(self) -> str:
        width = max(len(name) for name in self.images) if self.images else 0
        lines = []
        for name, image in self.images.items():
            boxes = (
                " ".join(
                    f"[{layer.digest[7:19]} {human_size(layer.size)}]{'*' if layer.digest in self.shared else ''}"
                    for layer in image.layers
                )
                or "(no layers)"
            )
            lines.append(f"{name:<{width}}  {boxes}")
        for digest, count in self.shared.items():
            lines.append(f"* {digest[7:19]} is shared by {count} images: one blob, stored and uploaded once")
        if not self.shared:
            lines.append("(no layer is shared)")
        return "\n".join(lines)

    def _repr_svg_(self) -> str:
        columns = max((len(image.layers) for image in self.images.values()), default=0)
        width = max(_NAME_W + max(columns, 1) * (_BOX_W + _GAP) + _GAP, 560)
        legend_h = 22 * (len(self.shared) or 1)
        height = _TOP + len(self.images) * _ROW_H + legend_h + 10
        header = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        parts = [header + 'font-family="monospace" font-size="12">']
        for row, (name, image) in enumerate(self.images.items()):
            y = _TOP + row * _ROW_H
            parts.append(f'<text x="4" y="{y + _BOX_H / 2 + 4}" font-weight="bold">{html.escape(name)}</text>')
            for col, layer in enumerate(image.layers):
                x = _NAME_W + col * (_BOX_W + _GAP)
                fill = self._colour.get(layer.digest, _OWN_COLOUR)
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="4" fill="{fill}" '
                    f'stroke="#333"><title>{layer.digest}</title></rect>'
                )
                parts.append(f'<text x="{x + 6}" y="{y + 16}">{layer.digest[7:19]}</text>')
                parts.append(f'<text x="{x + 6}" y="{y + 31}">{human_size(layer.size)}</text>')
        y = _TOP + len(self.images) * _ROW_H + 4
        if not self.shared:
            parts.append(f'<text x="4" y="{y + 12}">no layer is shared</text>')
        for i, (digest, count) in enumerate(self.shared.items()):
            parts.append(
                f'<rect x="4" y="{y + i * 22}" width="14" height="14" fill="{self._colour[digest]}" stroke="#333"/>'
            )
            parts.append(
                f'<text x="24" y="{y + i * 22 + 12}">{digest[7:19]}: shared by {count} images, one blob stored and uploaded once</text>'
            )
        parts.append("</svg>")
        return "".join(parts)


def layer_diagram(images: Mapping[str, Image]) -> LayerDiagram:
    """A diagram of ``images`` (name → image), in the order given."""
    return LayerDiagram(images)
