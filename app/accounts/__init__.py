"""Several Cloudflare accounts behind one gateway: selection, failover, limits and neuron accounting."""
