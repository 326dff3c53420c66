"""Intelligence exchange: the secure mailbox of customs, police and partner services, its
messages (reports, requests, CIS alerts, mode notices, seizure reports), grading and handling,
and what flows into targeting (watchlist entries)."""
