import type { ComponentChildren, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** Every page lives under /console; the API answers index.html for any of them. */
export const BASE = '/console';

const listeners = new Set<() => void>();

export const navigate = (path: string): void => {
  window.history.pushState(null, '', `${BASE}${path}`);
  for (const listener of listeners) listener();
};

/** The current page's path below /console, with its query. */
const current = () => {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : '/';
  return `${path || '/'}${window.location.search}`;
};

export const useLocation = (): string => {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return location;
};

/** A link that changes page without a reload; a modified click (new tab) stays the browser's. */
export const Link = ({
  to,
  children,
  current: isCurrent,
}: {
  to: string;
  children: ComponentChildren;
  current?: boolean;
}) => {
  const onClick = (event: TargetedMouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={`${BASE}${to}`} onClick={onClick} aria-current={isCurrent ? 'page' : undefined}>
      {children}
    </a>
  );
};
