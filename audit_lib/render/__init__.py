"""What leaves the library for people and other tools: log text made safe to show (`textsafe`), charts, and
exports (CSV that no spreadsheet runs, JSON Lines, Parquet)."""
