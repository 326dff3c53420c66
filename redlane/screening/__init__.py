"""Screening: the keys that watchlist entries and stored targets are compared by.

Both sides of a comparison go through the same functions (`normalise`), so an entry made from a
message and a target read from the store agree on spelling, spaces, dashes and case.
"""
