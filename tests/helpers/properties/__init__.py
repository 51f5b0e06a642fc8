"""The property tests' generated plants, the oracle that computes their marts by hand, and the pipeline run."""
