"""Reports: what a methodologist reads, computed from the stored rows.

Owns the deficit map and run figures (``maps``), the analytic views (school types, ranking,
over time, risk group, entry → final dynamics) and the programme's indicators with their
XLSX.
"""
