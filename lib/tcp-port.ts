// The TCP port rule, once, for every setting, flag and host step that takes a port.
export const TCP_PORT_MIN = 1;
export const TCP_PORT_MAX = 65535;

/** What a port must be, for messages. */
export const TCP_PORT_RULE = `a TCP port (a whole number ${TCP_PORT_MIN}-${TCP_PORT_MAX})`;

export function isTcpPort(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= TCP_PORT_MIN && n <= TCP_PORT_MAX;
}
