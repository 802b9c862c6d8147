/** Longest text kept by default: messages may quote request values, and requests are as large as their body. */
const MAX_TEXT = 1_000;

/** `text` cut to `max` characters (marked with `…`), so attacker-sized values stay bounded in logs and reports. */
export function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
