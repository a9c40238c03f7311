"""Providers' photos, re-encoded by Pillow: only real PNG or JPEG pictures of bounded size
are kept, redrawn from their pixels so no metadata (camera, time, GPS position) survives."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import RuleBroken

UPLOAD_MAX_BYTES = 10 * 1024 * 1024
"""What a phone camera's photo may weigh when it arrives; what is stored is far smaller."""

STORED_MAX_BYTES = 1_000_000
MAX_PIXELS = {"JPEG": 50_000_000, "PNG": 16_000_000}
"""The most pixels a source may have, checked from its header before its pixels are read:
beyond them a file is a decompression bomb (a small file that would unpack into gigabytes).
A JPEG is decoded already scaled down (Image.draft), so a 50-megapixel phone photo costs
little; a PNG is decoded whole, so it is held to 16 megapixels (a large logo or screenshot).
Pillow's own guard (about 89 megapixels) stands behind these."""

MAX_SIDE = 1200
"""The longest side kept: more than any page shows a photo at."""

NOT_A_PICTURE = "The file is not a PNG or JPG picture. Choose a photo saved as PNG or JPG"


def clean_photo(data: bytes) -> tuple[bytes, str]:
    """The photo redrawn without metadata, at most MAX_SIDE pixels a side, and its media
    type."""
    if len(data) > UPLOAD_MAX_BYTES:
        raise RuleBroken("The photo must be smaller than 10 MB", field="photo")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; refuse all the same.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as probe:
                _check_size(probe)
                probe.verify()
            with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
                _check_size(image)
                if image.format == "JPEG":
                    # Decode at 1/2, 1/4 or 1/8 scale, still at least MAX_SIDE a side.
                    image.draft(None, (MAX_SIDE, MAX_SIDE))
                image.load()
                source_format = image.format
                picture = ImageOps.exif_transpose(image)
    except RuleBroken:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RuleBroken(_too_many_pixels(None), field="photo") from None
    except UnidentifiedImageError:
        raise RuleBroken(NOT_A_PICTURE, field="photo") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # A truncated or corrupt file that only pretends to be a picture.
        raise RuleBroken(NOT_A_PICTURE, field="photo") from None
    return _encode(picture, source_format)


def _check_size(image: Image.Image) -> None:
    width, height = image.size
    limit = MAX_PIXELS[image.format or "PNG"]
    if width < 1 or height < 1 or width * height > limit:
        raise RuleBroken(_too_many_pixels(image.format or "PNG"), field="photo")


def _too_many_pixels(kind: str | None) -> str:
    if kind is None:
        return "The picture has too many pixels. Choose a smaller one"
    return (
        f"The picture has too many pixels. Choose a {'JPG' if kind == 'JPEG' else 'PNG'} "
        f"under {MAX_PIXELS[kind] // 1_000_000} megapixels"
    )


def _has_transparency(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _encode(picture: Image.Image, source_format: str | None) -> tuple[bytes, str]:
    """PNG stays PNG (a logo's sharp edges), unless it is too large to keep and has no
    transparency, when it becomes a JPEG like every photo."""
    transparent = _has_transparency(picture)
    pixels = picture.convert("RGBA" if transparent else "RGB")
    # A fresh image holds the pixels and nothing else: no EXIF, XMP, ICC or text chunks.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    formats = ["PNG"] if transparent else (["PNG", "JPEG"] if source_format == "PNG" else ["JPEG"])
    for side in (MAX_SIDE, 800, 500):
        sized = clean.copy()
        sized.thumbnail((side, side))
        for kind in formats:
            out = io.BytesIO()
            if kind == "PNG":
                sized.save(out, "PNG", optimize=True)
            else:
                sized.save(out, "JPEG", quality=85, optimize=True)
            if out.tell() <= STORED_MAX_BYTES:
                return out.getvalue(), f"image/{kind.lower()}"
    raise RuleBroken("The picture is too detailed to keep. Choose a simpler one", field="photo")
