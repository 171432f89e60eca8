"""A Socket.IO load generator that speaks the chat protocol, and its reports."""
