"""The web chat page served at `GET /` (plain HTML, CSS and JavaScript: no build step)."""
