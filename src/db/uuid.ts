const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in its hyphenated form (any case): what a tenant or user id must be. */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
