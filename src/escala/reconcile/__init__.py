"""The engine: order tasks by their references, plan (dry run), apply with retries,
delete by ownership."""
