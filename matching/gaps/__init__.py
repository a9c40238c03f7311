"""The gap analysis for commissioners: figures, reports, the map, tables, site suggestions and
small-number suppression."""
