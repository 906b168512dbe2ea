"""Offers catalogue and matching of deficits to offers under capacity (pure)."""
