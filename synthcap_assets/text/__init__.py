"""Text sources: language, quality signals, near duplicates, the text profile and the clean
corpus (pure logic in facts, signals, dedup, language, corpus; Dagster wiring in assets)."""
