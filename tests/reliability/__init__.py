"""The fault-injection matrix and the circuit breaker, on real sockets."""
