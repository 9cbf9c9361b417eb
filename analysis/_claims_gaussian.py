"""Claims of the Gaussian collapse slice (filled below)."""
