"""The key service: keyed values for the encoder without any party holding the key."""
