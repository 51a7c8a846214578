// The code of a Node.js system error (ENOENT, EEXIST, EAGAIN, ...), or
// undefined for an error that has none: what the file-system callers decide on.

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}
