/** Logged paths longer than this are cut: a GET can carry a whole contact list. */
const MAX_LOGGED_PATH = 4096;

/**
 * The request's path and query as received, with the value of every `password` parameter
 * replaced by `[redacted]`. Works on the raw text so the rest stays byte for byte as sent;
 * parameter names are decoded before comparing, so `pass%77ord=…` is caught too.
 */
export function redactPasswordInPath(rawUrl: string): string {
  const mark = rawUrl.indexOf('?');
  let path = rawUrl;
  if (mark >= 0) {
    const query = rawUrl
      .slice(mark + 1)
      .split('&')
      .map((part) => {
        // Decoded by the same parser that reads the parameters, so no spelling slips through.
        const name = new URLSearchParams(part).keys().next().value;
        if (name !== 'password') return part;
        const equals = part.indexOf('=');
        return `${equals < 0 ? part : part.slice(0, equals)}=[redacted]`;
      })
      .join('&');
    path = `${rawUrl.slice(0, mark)}?${query}`;
  }
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…[truncated]` : path;
}
