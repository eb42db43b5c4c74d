"""The knowledge store: SQLite through sqlite-utils; the only code that writes SQL. Modules are imported where
they are used; knowledge.db.migrate imports every module that adds tables (its MODULES list)."""
