"""The outlet front end: server-rendered pages for clerks, served by the gateway itself."""
