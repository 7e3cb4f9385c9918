"""The Streamlit side of the app: session-state keys, cached loading, the sidebar and page helpers.

This package (with app.py and pages/) is the only code that imports streamlit; the analysis lives in
`audit_lib.analysis.metrics` and `audit_lib.render.charts`.
"""
