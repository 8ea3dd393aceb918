# Kept backgrounds live in generation.Background (kept_at); creations arrive in a later step.
