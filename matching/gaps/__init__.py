"""The gap analysis for commissioners: figures, reports, the map, tables, site suggestions, with
small numbers protected by `marketplace.suppression`."""
