"""The scenes: data generators with a known structural causal model and an exact renderer."""
