"""Audit and reconciliation: discovered inventory read from files, matched against the BIR, and the
accepted differences registered as one audit-correction change."""
