"""redlane: targeting and intelligence exchange for customs and police."""
