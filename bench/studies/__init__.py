"""One-off investigations, kept runnable because their findings justify code that is still there (bench/README.md,
"Studies"). No scenario of `make bench` imports them."""
