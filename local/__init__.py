"""The local stack: an HTTP server that turns requests into API Gateway REST proxy events for
the same Lambda handlers, with an embedded AWS mock (moto). Never deployed."""
