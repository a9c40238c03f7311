"""Reference geography every package uses: Scotland's council areas (and, later, settlements)."""
