"""Providers' photos as uploaded from a phone: redrawn by Pillow, so where a photo was taken
(its GPS EXIF) never reaches the public page, and anything that is not a picture is refused."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from sqlalchemy.orm import Session

from providers import photos
from tests.factories import PASSWORD, make_provider
from tests.helpers import HtmlClient, error_messages

GPS_IFD = 0x8825


def phone_photo(width: int = 3000, height: int = 2000) -> bytes:
    """A JPEG as a phone saves it: camera details and the GPS position in its EXIF."""
    image = Image.new("RGB", (width, height), (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:12:01 09:30:00"  # DateTime
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (57.0, 24.0, 46.0), 3: "W", 4: (6.0, 11.0, 47.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_of(header: bytes, pixels: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def upload(client: HtmlClient, name: str, data: bytes, media_type: str = "image/jpeg"):  # type: ignore[no-untyped-def]
    return client.post(
        "/provider/photo",
        data={"csrftoken": client.csrf_token()},
        files={"photo": (name, data, media_type)},
    )


class TestUploadedPhotos:
    def test_a_phone_photo_comes_back_without_its_exif_and_smaller(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = make_provider(db)
        client.sign_in(provider.members[0].user.email, PASSWORD)
        sent = phone_photo()
        with Image.open(io.BytesIO(sent)) as original:
            assert original.getexif().get_ifd(GPS_IFD), "the photo sent does carry a GPS position"

        assert upload(client, "IMG_0001.jpg", sent).status_code == 303
        shown = client.get(f"/providers/{provider.id}/photo")
        assert shown.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(shown.content)) as kept:
            assert not kept.getexif()
            assert "exif" not in kept.info
            assert b"Exif" not in shown.content and b"PhoneMaker" not in shown.content
            assert max(kept.size) == photos.MAX_SIDE
            assert kept.size == (1200, 800)

    def test_a_logo_with_transparency_stays_a_png(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db)
        client.sign_in(provider.members[0].user.email, PASSWORD)
        logo = io.BytesIO()
        Image.new("RGBA", (200, 100), (0, 0, 0, 0)).save(logo, "PNG")
        assert upload(client, "logo.png", logo.getvalue(), "image/png").status_code == 303
        shown = client.get(f"/providers/{provider.id}/photo")
        with Image.open(io.BytesIO(shown.content)) as kept:
            assert (kept.format, kept.mode, kept.size) == ("PNG", "RGBA", (200, 100))

    def test_a_file_that_only_pretends_to_be_a_picture_is_refused(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = make_provider(db)
        client.sign_in(provider.members[0].user.email, PASSWORD)
        truncated = phone_photo(300, 200)[:400]
        for name, data in [
            ("fake.jpg", b"\xff\xd8\xff" + b"<script>alert(1)</script>"),
            ("truncated.jpg", truncated),
            ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ]:
            refused = upload(client, name, data)
            assert refused.status_code == 422, name
            assert error_messages(refused) == [
                "The file is not a PNG or JPG picture. Choose a photo saved as PNG or JPG"
            ]
        db.refresh(provider)
        assert provider.photo is None

    def test_a_decompression_bomb_is_refused_before_its_pixels_are_read(
        self, client: HtmlClient, db: Session
    ) -> None:
        provider = make_provider(db)
        client.sign_in(provider.members[0].user.email, PASSWORD)
        bomb = io.BytesIO()
        # 5,000 x 5,000 of one colour: a few KB that would unpack into 100 MB as RGBA.
        Image.new("1", (5_000, 5_000)).save(bomb, "PNG", optimize=True)
        assert len(bomb.getvalue()) < 100_000
        refused = upload(client, "bomb.png", bomb.getvalue(), "image/png")
        assert refused.status_code == 422
        assert error_messages(refused) == [
            "The picture has too many pixels. Choose a PNG under 16 megapixels"
        ]

    def test_beyond_pillows_own_guard_too(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db)
        client.sign_in(provider.members[0].user.email, PASSWORD)
        # A tiny PNG whose header claims 20,000 x 20,000 pixels: Pillow refuses it on opening.
        header = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0)
        refused = upload(client, "huge.png", png_of(header, zlib.compress(b"")), "image/png")
        assert refused.status_code == 422
        assert "too many pixels" in error_messages(refused)[0]

    def test_a_large_phone_photo_is_decoded_scaled_down(self) -> None:
        # 48 megapixels, within the JPEG limit; kept at MAX_SIDE without decoding it whole.
        data, media_type = photos.clean_photo(phone_photo(8000, 6000))
        with Image.open(io.BytesIO(data)) as kept:
            assert (media_type, kept.size) == ("image/jpeg", (1200, 900))
