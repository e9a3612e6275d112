import type { ReactNode } from 'react';
import type { Resource } from '../hooks';
import { ErrorNotice } from './error-notice';
import { Empty, Loading } from './page';

/**
 * A list read from the API, in whichever of its states it is: loading (the first time only: a reload
 * keeps the list on screen), failed, empty, or the items.
 *
 * @example
 * <ListView resource={keys} items={(data) => data.apiKeys} empty="No API keys yet.">
 *   {(apiKeys) => <KeyTable apiKeys={apiKeys} />}
 * </ListView>
 */
export function ListView<T, Item>({
  resource,
  items,
  empty,
  children,
}: {
  resource: Resource<T>;
  items: (data: T) => readonly Item[];
  empty: ReactNode;
  children: (items: readonly Item[]) => ReactNode;
}) {
  if (resource.isLoading && resource.data === undefined) return <Loading />;
  if (resource.error) return <ErrorNotice error={resource.error} />;
  const list = resource.data === undefined ? [] : items(resource.data);
  return list.length === 0 ? <Empty>{empty}</Empty> : children(list);
}
