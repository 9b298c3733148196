"""The drill server for a room: participants and a facilitator in the browser."""

# State-changing requests (every one is journaled) per link: this many a second on average,
# in bursts of up to BURST seconds' worth. A person clicking as fast as they can sends a few
# a second for a moment; a script flooding the journal is held to this. They live here, not in
# the app, so that ``drill`` shows the default without loading the server.
RATE = 5.0  # the default of drill serve --rate-limit
BURST = 6.0
