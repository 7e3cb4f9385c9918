"""Paths, globs, zips and uploads in, an `AuditLog` out: discovery by name (`discover`), safe reading within caps
(`entries`, `names`, `archives`, `content`, `reading`), log formats as data (`formats/`), parsing (`parse`) and the
loader that ties them together (`loader.load`). Parsing ends here."""
