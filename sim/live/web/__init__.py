"""The drill server for a room: participants and a facilitator in the browser."""
