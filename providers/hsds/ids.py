"""Reversible ids: our integer record numbers as the UUIDs HSDS 3.0 asks for, and back.

The records the feed can be asked for by id (services, organizations, taxonomies, terms,
service-at-locations, locations) get a reversible UUID (version 8, RFC 9562): 48 bits
from a hash of the publisher's base URL, the kind of record, and our id. So ids are
stable, differ between two deployments, and /services/{id} finds its offer without a
table of ids. Records never asked for by id (attributes, cost options, areas...) get a
name-based UUID (version 5).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from functools import cached_property

from providers.models import Taxonomy


class RecordKind:
    """The kinds of record with their own address in the feed (the 12 bits in an id)."""

    SERVICE = 1
    ORGANIZATION = 2
    TAXONOMY = 3
    TAXONOMY_TERM = 4
    SERVICE_AT_LOCATION = 5
    LOCATION = 6


TAXONOMY_NUMBERS = {
    Taxonomy.PERSONAL_OUTCOME: 1,
    Taxonomy.KIND_OF_SUPPORT: 2,
    Taxonomy.CLIENT_GROUP: 3,
}
"""Fixed, so a taxonomy's id never changes if the enum is reordered."""

_NUMBER_BITS = 62


@dataclass(frozen=True)
class HsdsIds:
    """UUIDs for one publisher (the deployment's base URL)."""

    publisher: str

    @cached_property
    def _prefix(self) -> int:
        return int.from_bytes(hashlib.sha256(self.publisher.encode()).digest()[:6], "big")

    @cached_property
    def _namespace(self) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, self.publisher)

    def of(self, kind: int, number: int) -> str:
        """The UUID of our record `number` of this kind."""
        if not 0 <= number < 1 << _NUMBER_BITS:
            raise ValueError("record number out of range")
        value = self._prefix << 80 | 8 << 76 | kind << 64 | 0b10 << 62 | number
        return str(uuid.UUID(int=value))

    def number(self, kind: int, text: str | None) -> int | None:
        """Our record number from one of our UUIDs of this kind; None for anything else."""
        if not text:
            return None
        try:
            value = uuid.UUID(text.strip()).int
        except ValueError:
            return None
        if value >> 80 != self._prefix or (value >> 76) & 0xF != 8 or (value >> 64) & 0xFFF != kind:
            return None
        if (value >> 62) & 0b11 != 0b10:
            return None
        return value & ((1 << _NUMBER_BITS) - 1)

    def child(self, kind: str, *parts: object) -> str:
        """A stable UUID for a record that is only ever seen inside another."""
        return str(uuid.uuid5(self._namespace, ":".join([kind, *(str(p) for p in parts)])))

    def taxonomy(self, taxonomy: Taxonomy) -> str:
        return self.of(RecordKind.TAXONOMY, TAXONOMY_NUMBERS[taxonomy])

    def taxonomy_of(self, text: str | None) -> Taxonomy | None:
        number = self.number(RecordKind.TAXONOMY, text)
        return next((t for t, n in TAXONOMY_NUMBERS.items() if n == number), None)
