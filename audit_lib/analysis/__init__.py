"""Figures from the canonical tables: the scope (`filters`), conditions on events (`conditions`), aggregates for
every chart and table (`metrics`), sessions, the compliance views, and the summary of a log."""
