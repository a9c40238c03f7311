"""Open Referral's Human Services Data Specification (HSDS 3.0), both ways.

Out (the /openreferral/ feed, providers.openreferral, answered by `feed`): a published
offer is an HSDS `service` and its provider an `organization` (`records`); the taxonomies
offers are described in are `taxonomy` records whose terms are attached to services by
`attribute`s (`taxonomies`); the current price is a `cost_option` in GBP (`prices`, with
the amounts from `money`); the service area a `service_area`, and the place support
starts from a `location` joined to the service by a `service_at_location` (`places`); the
availability grid weekly `schedule`s (`schedules`). Every record the feed can be asked for
by id has a reversible UUID (`ids`).

In (`sources` reads a file, `importer` writes providers and offers): each of the modules
above also reads its part back, in the shapes providers.offers takes.

Callers import from the module that owns a name. Re-exported here are the conversions
between our values and HSDS's that touch no database, so that code using several of them
(as the mapping's unit tests do) can name them all through this one package.
"""

from providers.hsds.money import amount_to_pence, dumps, pence_to_amount
from providers.hsds.places import circle_geojson, radius_from_extent
from providers.hsds.prices import parse_price_unit, uplift_basis_points, uplift_field
from providers.hsds.schedules import availability_from_schedules
from providers.hsds.taxonomies import match_term

__all__ = [
    "amount_to_pence",
    "availability_from_schedules",
    "circle_geojson",
    "dumps",
    "match_term",
    "parse_price_unit",
    "pence_to_amount",
    "radius_from_extent",
    "uplift_basis_points",
    "uplift_field",
]
