"""Benchmark harness: metrics, aggregation and reporting for boneflare classifiers."""
