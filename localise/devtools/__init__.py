"""Developer tools: offline models for tests, demos and benchmarks. Not used by the pipeline itself."""
