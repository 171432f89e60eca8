"""The Socket.IO chat service: server, web page, history stores, metrics."""
