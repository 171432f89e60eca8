"""The control loops, one module each, written from their documents (docs/scaling.md,
"The scaling lab", cites each parameter). Each is a small state machine the simulator
calls at the loop's own period; none knows about ticks, platforms or the load."""
