"""Reports: what happened to a campaign's messages, read from the stored counters."""
