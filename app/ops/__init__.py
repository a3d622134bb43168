"""Operations: readiness checks and Prometheus metrics (docs/operations.md)."""
