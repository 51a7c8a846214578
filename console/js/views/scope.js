// A token bound to names (prefixes) is shown only the locks, sessions and
// elections on them: its empty list is no idle cluster, and must not read as
// one ("No sessions." while the cluster had many).

/** The token's names, "billing:, ops:", or null when it sees every name. */
function tokenNames(ctx) {
  const prefixes = ctx.identity?.prefixes ?? [];
  return prefixes.length > 0 ? prefixes.join(', ') : null;
}

/** An empty list in words: `all` for a token that sees every name, else `bound(names)`. */
export function emptyFor(ctx, all, bound) {
  const names = tokenNames(ctx);
  return names === null ? all : bound(names);
}
