"""The site's authority as every face reads and commands it: the operations surface (roles, the
audit trail, modes), the alarm board, the numbered event stream."""
