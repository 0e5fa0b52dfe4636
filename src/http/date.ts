// The Date header value (RFC 9110 §6.6.1, IMF-fixdate), formatted once per second.

let cachedSecond = -1;
let cachedValue = '';

/** Current time as an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
export function httpDate(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedValue = new Date(second * 1000).toUTCString();
  }
  return cachedValue;
}
