"""Foundation every layer may use: errors, the project's paths, the book parameters."""
