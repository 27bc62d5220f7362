"""Group choreography: formations on the stage and the paths between them (plain numpy; nothing heavy here)."""
