"""Taxonomies both ways. Out: the three taxonomies offers are described in (personal
outcomes, kinds of support, who it suits) as HSDS `taxonomy` records, their terms as
`taxonomy_term`s, attached to a service by one `attribute` each. In: an HSDS term matched
to one of ours by code or name."""

from __future__ import annotations

from providers.hsds.fields import JsonObject, normalise
from providers.hsds.ids import HsdsIds, RecordKind
from providers.models import Offer, Taxonomy, TaxonomyTerm

TAXONOMY_DESCRIPTIONS = {
    Taxonomy.PERSONAL_OUTCOME: (
        "What matters to the person: the Talking Points quality-of-life outcomes used in "
        "Scottish social care."
    ),
    Taxonomy.KIND_OF_SUPPORT: "The kind of support offered under Self-directed Support.",
    Taxonomy.CLIENT_GROUP: "Who the support suits.",
}


def taxonomy_record(taxonomy: Taxonomy, *, ids: HsdsIds) -> JsonObject:
    return {
        "id": ids.taxonomy(taxonomy),
        "name": taxonomy.label,
        "description": TAXONOMY_DESCRIPTIONS[taxonomy],
    }


def taxonomy_term_record(
    term: TaxonomyTerm, *, ids: HsdsIds, with_taxonomy: bool = True
) -> JsonObject:
    record: JsonObject = {
        "id": ids.of(RecordKind.TAXONOMY_TERM, term.id),
        "code": term.code,
        "name": term.name,
        # HSDS requires a description; client groups have none of their own.
        "description": term.description or term.name,
        "taxonomy": term.taxonomy.label,
        "taxonomy_id": ids.taxonomy(term.taxonomy),
        "language": "en",
    }
    if with_taxonomy:
        record["taxonomy_detail"] = taxonomy_record(term.taxonomy, ids=ids)
    return record


def attribute_records(offer: Offer, *, ids: HsdsIds) -> list[JsonObject]:
    """One attribute per term, linking the service to it; link_type says which taxonomy."""
    service_id = ids.of(RecordKind.SERVICE, offer.id)
    return [
        {
            "id": ids.child("attribute", offer.id, term.id),
            "link_id": service_id,
            "link_type": term.taxonomy.value,
            "link_entity": "service",
            "taxonomy_term_id": ids.of(RecordKind.TAXONOMY_TERM, term.id),
            "taxonomy_term": taxonomy_term_record(term, ids=ids),
        }
        for term in offer.terms
    ]


def match_term(term: JsonObject, known: list[TaxonomyTerm]) -> TaxonomyTerm | None:
    """One of our terms with the same code or name (any case); when the term names its
    taxonomy and that is one of ours, only that taxonomy's terms are considered."""
    detail = term.get("taxonomy_detail") or {}
    taxonomy_names = {normalise(term.get("taxonomy")), normalise(detail.get("name"))}
    ours = [
        t for t in Taxonomy if normalise(t.label) in taxonomy_names or t.value in taxonomy_names
    ]
    candidates = [t for t in known if not ours or t.taxonomy in ours]
    code, name = normalise(term.get("code")), normalise(term.get("name"))
    for candidate in candidates:
        if code and candidate.code == code:
            return candidate
    for candidate in candidates:
        if name and normalise(candidate.name) == name:
            return candidate
    return None
