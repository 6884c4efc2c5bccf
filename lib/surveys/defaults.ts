// The smart-meter scenario's ports, as in the seed: meters send to the
// gateway on UDP 10005, the gateway reaches the cloud on TCP 8001.
export const DEFAULT_UDP_PORT = 10005;
export const DEFAULT_CLOUD_PORT = 8001;
