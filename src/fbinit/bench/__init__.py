"""The frontend benchmark: distillation, conditioning during training, classification,
throughput, and whether conditioning at initialisation predicts training.

Every record is a sweep task (:mod:`fbinit.sweep`) stored as it finishes, so a benchmark
resumes after a crash and runs on a Dask cluster; ``fbinit bench`` runs it and writes the
benchmark page. See docs/benchmark.md.
"""
