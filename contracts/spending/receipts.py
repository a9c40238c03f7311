"""Receipts of one-off purchases, as kept: a photo of a receipt redrawn without its
metadata (where it was taken, on what phone) the way providers' photos are, or a PDF as
sent, which is only ever downloaded, never shown in the page."""

from __future__ import annotations

from marketplace.errors import RuleBroken
from providers.photos import UPLOAD_MAX_BYTES, clean_photo

PDF_MAX_BYTES = 5 * 1024 * 1024
PDF = "application/pdf"
NOT_A_RECEIPT = "The receipt must be a PDF, or a photo saved as PNG or JPG"


def clean_receipt(data: bytes) -> tuple[bytes, str]:
    """What to keep of an uploaded receipt, and its media type; RuleBroken (field
    'receipt') for anything else."""
    if not data:
        raise RuleBroken("Choose the receipt's file: a PDF, or a photo of it", field="receipt")
    if data.startswith(b"%PDF-"):
        if len(data) > PDF_MAX_BYTES:
            raise RuleBroken("A PDF receipt must be smaller than 5 MB", field="receipt")
        # A PDF that was cut short in sending has no end-of-file marker near its end.
        if b"%%EOF" not in data[-1024:]:
            raise RuleBroken("The PDF is incomplete. Save it again and choose it", field="receipt")
        return data, PDF
    if len(data) > UPLOAD_MAX_BYTES:
        raise RuleBroken("A photo of a receipt must be smaller than 10 MB", field="receipt")
    try:
        return clean_photo(data)
    except RuleBroken as error:
        raise RuleBroken(
            error.message if "pixels" in error.message else NOT_A_RECEIPT, field="receipt"
        ) from None
