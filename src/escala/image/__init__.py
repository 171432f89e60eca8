"""Building and publishing the chat's container image with the engine this machine has."""
