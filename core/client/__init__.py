"""A desktop as a client of a server: the session, the server's alarm board, relayed values."""
