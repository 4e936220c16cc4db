"""provgw gateway: service orders in, network-element operations out, durably."""
