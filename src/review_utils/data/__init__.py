"""The data package: loading typed tables, recording reads, validation rules, the claims-evidence
grammar, the catalogue and the bibliography. Imports nothing above it (only core)."""
