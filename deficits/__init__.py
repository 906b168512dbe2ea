"""Pure analytics: competency scores, deficit levels and their aggregates."""
