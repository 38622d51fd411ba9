/** The gateway's version, sent to fal as its User-Agent (fal sees the gateway, not the caller's client). */
export const GATEWAY_VERSION = '0.1.0';
export const GATEWAY_USER_AGENT = `fal-gateway/${GATEWAY_VERSION}`;
