"""Where state lives: a local implementation (file / sqlite in the data dir) and a Redis one for replicas."""
