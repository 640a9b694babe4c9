/** Time as the domain sees it. Tests move it through `setNow`; production never does. */
let offsetMs = 0;

export const clock = {
  now: (): Date => new Date(Date.now() + offsetMs),
  nowIso: (): string => new Date(Date.now() + offsetMs).toISOString(),
  epochSeconds: (): number => Math.floor((Date.now() + offsetMs) / 1000),
  /** For tests and local jobs only: shift "now" by the given milliseconds. */
  advance(ms: number) {
    offsetMs += ms;
  },
  reset() {
    offsetMs = 0;
  },
};
