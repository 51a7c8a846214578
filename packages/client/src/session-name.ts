// A session's name is a label for people (GET /v1/sessions, the console) and
// has a limit of its own, smaller than what it is made from: a lock set of 64
// names of 256 characters, an election value of 4096. A label built from them
// is cut to fit, so that a valid lock or election never fails for its label.

/** The server's limit on a session name, in code points (http-api.md: name <= 128). */
export const SESSION_NAME_CHARS_MAX = 128;

/** `label` cut to SESSION_NAME_CHARS_MAX code points, ending in '…' when cut. */
export function sessionName(label: string): string {
  const chars = Array.from(label);
  if (chars.length <= SESSION_NAME_CHARS_MAX) return label;
  return `${chars.slice(0, SESSION_NAME_CHARS_MAX - 1).join('')}…`;
}
