//! Simulated hardware for host tests of irqkit drivers.
