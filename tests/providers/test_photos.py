"""Providers' photos as uploaded from a phone: redrawn by Pillow, so where a photo was taken
(its GPS EXIF) never reaches the public page, and anything that is not a picture is refused."""

from __future__ import annotations

import io

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


def upload(client: HtmlClient, name: str, data: bytes, media_type: str = "image/jpeg"):  # type: ignore[no-untyped-def]
    return client.post(
        "/provider/photo", data={"csrftoken": client.csrf_token()}, files={"photo": (name, data, media_type)}
    )


class TestUploadedPhotos:
    def test_a_phone_photo_comes_back_without_its_exif_and_smaller(self, client: HtmlClient, db: Session) -> None:
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

    def test_a_file_that_only_pretends_to_be_a_picture_is_refused(self, client: HtmlClient, db: Session) -> None:
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
            assert error_messages(refused) == ["The file is not a PNG or JPG picture. Choose a photo saved as PNG or JPG"]
        db.refresh(provider)
        assert provider.photo is None

    def test_a_decompression_bomb_is_refused_before_its_pixels_are_read(self, client: HtmlClient, db: Session) -> None:
        provider = make_provider(db)
        client.sign_in(provider.members[0].user.email, PASSWORD)
        bomb = io.BytesIO()
        # 7,000 x 7,000 of one colour: a few dozen KB that would unpack into 150 MB as RGB.
        Image.new("1", (7_000, 7_000)).save(bomb, "PNG", optimize=True)
        assert len(bomb.getvalue()) < photos.UPLOAD_MAX_BYTES
        refused = upload(client, "bomb.png", bomb.getvalue(), "image/png")
        assert refused.status_code == 422
        assert "too many pixels" in error_messages(refused)[0]
