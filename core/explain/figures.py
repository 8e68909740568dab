"""Pictures made from model output: heatmap overlays, lesion-mask outlines and slide-ready figure grids.

Shared by the dashboard, the PDF reports and the command line, so a heatmap looks the same everywhere.
"""
from __future__ import annotations

import importlib.util
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

# Dark blue -> cyan -> yellow -> red: ordered by lightness in the middle, like 'jet' but calmer.
_COLOUR_STOPS = np.array([[0, 0, 130], [0, 110, 255], [0, 220, 200], [250, 230, 0], [255, 60, 0], [170, 0, 0]],
                         dtype=np.float32)


def heatmap_colours(heatmap: np.ndarray) -> np.ndarray:
    """An RGB uint8 array for a heatmap in [0, 1] (values outside are clipped)."""
    x = np.clip(np.asarray(heatmap, dtype=np.float32), 0.0, 1.0) * (len(_COLOUR_STOPS) - 1)
    low = np.floor(x).astype(int).clip(0, len(_COLOUR_STOPS) - 2)
    frac = (x - low)[..., None]
    return (_COLOUR_STOPS[low] * (1 - frac) + _COLOUR_STOPS[low + 1] * frac).astype(np.uint8)


def heatmap_overlay(image: Image.Image, heatmap: np.ndarray, opacity: float = 0.5) -> Image.Image:
    """The image with the heatmap blended on top; cold areas stay mostly clear so the lesion shows."""
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    heat = np.clip(np.asarray(heatmap, dtype=np.float32), 0.0, 1.0)
    if heat.shape != base.shape[:2]:
        raise ValueError(f"heatmap {heat.shape} and image {base.shape[:2]} must share a pixel grid")
    alpha = (float(np.clip(opacity, 0.0, 1.0)) * (0.25 + 0.75 * heat))[..., None]
    colour = heatmap_colours(heat).astype(np.float32)
    return Image.fromarray((base * (1 - alpha) + colour * alpha).clip(0, 255).astype(np.uint8))


def mask_outline(image: Image.Image, mask: np.ndarray, colour: tuple[int, int, int] = (0, 255, 90),
                 width: int = 2) -> Image.Image:
    """The image with the boundary of a binary lesion mask drawn on it (same pixel grid)."""
    inside = np.asarray(mask, dtype=bool)
    # 4-connected erosion, `width` pixels deep; pixels beyond the frame count as inside, so a lesion
    # touching the edge gets no line along the frame.
    eroded = ndimage.binary_erosion(inside, iterations=width, border_value=1)
    out = np.asarray(image.convert("RGB")).copy()
    out[inside & ~eroded] = colour
    return Image.fromarray(out)


@dataclass(frozen=True)
class FontSet:
    regular: Path
    bold: Path


def dejavu_fonts() -> FontSet | None:
    """DejaVu Sans from matplotlib's data folder (matplotlib comes with pytorch-grad-cam), found without
    importing matplotlib; None if it is absent. Figures and PDF reports use it for full Unicode text."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"
    fonts = FontSet(folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf")
    return fonts if fonts.regular.is_file() and fonts.bold.is_file() else None


def _figure_font(size: int):
    fonts = dejavu_fonts()
    try:
        return ImageFont.truetype(str(fonts.regular), size) if fonts else None
    except OSError:
        return None


def _ascii_text(text: str) -> str:
    return text.replace("\u00a0", " ").replace("→", "->").replace("—", "-").replace("·", "-")


def figure_png(tiles: list[tuple[Image.Image, str]], columns: int, title: str = "", tile_width: int = 400) -> bytes:
    """A slide-ready PNG: tiles in a grid, each with its caption underneath, and an optional title."""
    if not tiles:
        raise ValueError("a figure needs at least one tile")
    font, text = _figure_font(15), str
    if font is None:  # Pillow's built-in font lacks arrows, dashes and no-break spaces
        font = ImageFont.load_default(size=15)
        text = _ascii_text
    columns = max(1, min(columns, len(tiles)))
    scaled = [img.resize((tile_width, round(img.height * tile_width / img.width)), Image.LANCZOS) for img, _ in tiles]
    wrapped = [textwrap.wrap(text(caption), width=tile_width // 8) or [""] for _, caption in tiles]
    line_h, pad = 19, 12
    text_h = max(len(lines) for lines in wrapped) * line_h
    cell_h = max(img.height for img in scaled) + text_h + pad
    title_h = (line_h + pad) if title else 0
    rows = -(-len(tiles) // columns)
    canvas = Image.new("RGB", (columns * (tile_width + pad) + pad, title_h + rows * cell_h + pad), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((pad, pad // 2), text(title), fill="black", font=font)
    for i, (img, lines) in enumerate(zip(scaled, wrapped)):
        x = pad + (i % columns) * (tile_width + pad)
        y = title_h + pad + (i // columns) * cell_h
        canvas.paste(img, (x, y))
        for n, line in enumerate(lines):
            draw.text((x, y + img.height + 2 + n * line_h), line, fill="black", font=font)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()
