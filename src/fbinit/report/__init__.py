"""Summaries, figures and reports built on fbinit.analysis."""
