"""Reading Open Referral (HSDS 3.0) sources for the import: a JSON file (one service, a
list or page of services, or organizations with their services; the tabular JSON too) or a
tabular data package (a folder or zip with datapackage.json and CSVs), gathered into
Bundles of an organization and its services."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from providers.hsds.fields import JsonObject, Rejection, describe, normalise

TABULAR_FILES = (
    "organizations",
    "services",
    "attributes",
    "taxonomy_terms",
    "taxonomies",
    "cost_options",
    "service_areas",
    "service_at_location",
    "locations",
    "addresses",
    "languages",
    "schedules",
    "phones",
)
"""The tables of HSDS's tabular form this import reads, by their standard file names."""


class SourceError(Exception):
    """The file as a whole cannot be read."""


@dataclass
class Bundle:
    """An organization and its services, as the import takes them."""

    organization: JsonObject | None
    services: list[JsonObject]


def read_source(path: Path) -> tuple[list[Bundle], list[Rejection]]:
    """The organizations and services in a file, folder or zip, and the records that could
    not even be placed under an organization."""
    if path.is_dir():
        items = _assemble(_tables_from_folder(path))
    elif zipfile.is_zipfile(path):
        items = _assemble(_tables_from_zip(path))
    else:
        items = _items_from_json(_read_json(path.read_bytes(), str(path)))
    return _bundles(items)


def _read_json(data: bytes, where: str) -> Any:
    try:
        # Amounts as Decimal from the start: pounds never pass through a float.
        return json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourceError(f"{where} is not JSON: {error}") from None


def _items_from_json(data: Any) -> list[JsonObject]:
    if isinstance(data, dict) and any(str(key).endswith(".csv") for key in data):
        # HSDS's tabular form as JSON: {"services.csv": [rows], ...}
        return _assemble(
            {str(k).removesuffix(".csv"): v for k, v in data.items() if isinstance(v, list)}
        )
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise SourceError(
            "expected an HSDS service or organization, a list of them, or a page of them"
        )
    return data


def _is_service(item: JsonObject) -> bool:
    # Services require a status; organizations have none, nor an organization_id.
    return any(key in item for key in ("status", "organization_id", "organization", "cost_options"))


def _bundles(items: list[JsonObject]) -> tuple[list[Bundle], list[Rejection]]:
    bundles: list[Bundle] = []
    by_key: dict[str, Bundle] = {}
    organizations = {str(i["id"]): i for i in items if not _is_service(i) and i.get("id")}
    rejected = []

    def bundle_for(organization: JsonObject) -> Bundle:
        key = str(organization.get("id") or normalise(organization.get("name")))
        if key not in by_key:
            by_key[key] = Bundle(organization, [])
            bundles.append(by_key[key])
        elif len(organization) > len(by_key[key].organization or {}):
            by_key[key].organization = organization
        return by_key[key]

    for item in items:
        if _is_service(item):
            organization = item.get("organization") or organizations.get(
                str(item.get("organization_id"))
            )
            if not organization:
                rejected.append(
                    Rejection(
                        describe("service", item),
                        "names no organization we were given, "
                        "and every offer here belongs to a provider",
                    )
                )
                continue
            bundle_for(organization).services.append(item)
        else:
            bundle = bundle_for(item)
            bundle.services.extend(item.get("services") or [])
    return bundles, rejected


def _tables_from_folder(folder: Path) -> dict[str, list[JsonObject]]:
    names = _resource_paths(
        (folder / "datapackage.json").read_bytes()
        if (folder / "datapackage.json").is_file()
        else None
    )
    tables = {}
    for table, relative in names.items():
        file = folder / relative
        if file.is_file():
            tables[table] = _read_csv(file.read_bytes(), str(file))
    return _with_records(tables, folder)


def _tables_from_zip(path: Path) -> dict[str, list[JsonObject]]:
    with zipfile.ZipFile(path) as archive:
        members = archive.namelist()
        package = min(
            (m for m in members if m.rsplit("/", 1)[-1] == "datapackage.json"),
            key=len,
            default=None,
        )
        root = package.rsplit("/", 1)[0] + "/" if package and "/" in package else ""
        names = _resource_paths(archive.read(package) if package else None)
        tables = {}
        for table, relative in names.items():
            member = root + relative
            if member in members:
                tables[table] = _read_csv(archive.read(member), f"{path.name}:{member}")
    return _with_records(tables, path)


def _with_records(tables: dict[str, list[JsonObject]], where: Path) -> dict[str, list[JsonObject]]:
    if "services" not in tables and "organizations" not in tables:
        raise SourceError(f"{where} has neither services.csv nor organizations.csv")
    return tables


def _resource_paths(datapackage: bytes | None) -> dict[str, str]:
    """Each table's file, from datapackage.json's resources, over the standard names."""
    paths = {name: f"{name}.csv" for name in TABULAR_FILES}
    if datapackage is None:
        return paths
    try:
        package = json.loads(datapackage.decode("utf-8-sig"))
        resources = package["resources"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        # The standard's own example package is a link git did not follow: use the
        # standard file names rather than refusing a folder of perfectly good CSVs.
        return paths
    for resource in resources:
        if isinstance(resource, dict) and isinstance(resource.get("path"), str):
            stem = resource["path"].rsplit("/", 1)[-1].removesuffix(".csv")
            if stem in paths:
                paths[stem] = resource["path"]
    return paths


def _read_csv(data: bytes, where: str) -> list[JsonObject]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{where} is not UTF-8 text") from None
    return [
        {k: (v if v != "" else None) for k, v in row.items() if k}
        for row in csv.DictReader(io.StringIO(text))
    ]


def _assemble(tables: dict[str, list[JsonObject]]) -> list[JsonObject]:
    """Nest the tabular form's rows the way HSDS JSON nests them: organizations with their
    services, services with their terms, prices, areas, locations, languages and times."""

    def by(table: str, key: str) -> dict[str, list[JsonObject]]:
        grouped: dict[str, list[JsonObject]] = defaultdict(list)
        for row in tables.get(table, []):
            if row.get(key):
                grouped[str(row[key])].append(row)
        return grouped

    taxonomies = {str(r.get("id")): r for r in tables.get("taxonomies", [])}
    terms = {
        str(r.get("id")): {**r, "taxonomy_detail": taxonomies.get(str(r.get("taxonomy_id")))}
        for r in tables.get("taxonomy_terms", [])
    }
    addresses = by("addresses", "location_id")
    locations = {
        str(r.get("id")): {**r, "addresses": addresses.get(str(r.get("id")), [])}
        for r in tables.get("locations", [])
    }
    attributes, cost_options, areas = (
        by("attributes", "link_id"),
        by("cost_options", "service_id"),
        by("service_areas", "service_id"),
    )
    at_locations, languages, schedules = (
        by("service_at_location", "service_id"),
        by("languages", "service_id"),
        by("schedules", "service_id"),
    )
    services_of: dict[str, list[JsonObject]] = defaultdict(list)
    orphans = []
    organization_ids = {str(r.get("id")) for r in tables.get("organizations", [])}
    for row in tables.get("services", []):
        service_id = str(row.get("id"))
        service = {
            **row,
            "attributes": [
                {**a, "taxonomy_term": terms.get(str(a.get("taxonomy_term_id")))}
                for a in attributes.get(service_id, [])
                if (a.get("link_entity") or "service") == "service"
            ],
            "cost_options": cost_options.get(service_id, []),
            "service_areas": areas.get(service_id, []),
            "service_at_locations": [
                {**s, "location": locations.get(str(s.get("location_id")))}
                for s in at_locations.get(service_id, [])
            ],
            "languages": languages.get(service_id, []),
            "schedules": [
                s
                for s in schedules.get(service_id, [])
                if not s.get("location_id") or s.get("service_id")
            ],
        }
        if str(row.get("organization_id")) in organization_ids:
            services_of[str(row["organization_id"])].append(service)
        else:
            orphans.append(service)
    organization_locations, organization_phones = (
        by("locations", "organization_id"),
        by("phones", "organization_id"),
    )
    organizations = [
        {
            **row,
            "locations": [
                locations[str(loc["id"])]
                for loc in organization_locations.get(str(row.get("id")), [])
            ],
            "phones": organization_phones.get(str(row.get("id")), []),
            "services": services_of.get(str(row.get("id")), []),
        }
        for row in tables.get("organizations", [])
    ]
    return organizations + orphans
