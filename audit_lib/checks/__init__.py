"""Judgements: rules kept as data (`rule`, `rules/*.json`), the findings they raise (`finding`, `findings`), and
the logging configuration check (`config_check`)."""
