/**
 * Unsaved-edit warnings. A page calls `useUnsavedChanges(dirty)`; while any mounted page says it is dirty, closing or
 * reloading the tab warns (the browser's own `beforeunload` prompt) and the console's hash router (main.tsx) asks
 * `window.confirm` before changing page, staying put when the user declines.
 */
import { useEffect, useRef } from 'preact/hooks';

export const DEFAULT_UNSAVED_MESSAGE = 'You have unsaved changes. Leave this page?';

interface Guard {
  dirty: boolean;
  message: string;
}

/** Every mounted `useUnsavedChanges` caller; the router consults them before a route change. */
const guards = new Set<Guard>();
/** Set by `navigateAway`: the next hash change was asked for by the page itself (e.g. after saving), not the user. */
let bypassHash: string | null = null;

/** The message of the first dirty guard, or null when nothing would be lost by leaving. */
export function unsavedMessage(): string | null {
  for (const guard of guards) if (guard.dirty) return guard.message;
  return null;
}

/**
 * Called by the router before it follows a hash change to `hash`: true when the change may go ahead (nothing unsaved,
 * the page asked for it through `navigateAway`, or the user confirmed leaving).
 */
export function confirmLeave(hash: string): boolean {
  if (bypassHash !== null) {
    const expected = bypassHash;
    bypassHash = null;
    if (expected === hash) return true;
  }
  const message = unsavedMessage();
  if (message === null) return true;
  if (!window.confirm(message)) return false;
  // The user chose to drop the edits: stop warning until the leaving page has unmounted.
  for (const guard of guards) guard.dirty = false;
  return true;
}

/** Changes page without asking — for a page that has just saved and moves on to what it saved. */
export function navigateAway(hash: string): void {
  if (location.hash === hash) return;
  bypassHash = hash;
  location.hash = hash;
}

function onBeforeUnload(event: BeforeUnloadEvent): void {
  if (unsavedMessage() === null) return;
  event.preventDefault();
  // Older browsers need a returnValue to show the prompt (they ignore the text).
  event.returnValue = '';
}

/**
 * Warns before the user loses edits: while `dirty` is true, tab close/reload shows the browser's prompt and in-app
 * navigation asks `window.confirm(message)` first.
 */
export function useUnsavedChanges(dirty: boolean, message?: string): void {
  const guard = useRef<Guard>({ dirty, message: message ?? DEFAULT_UNSAVED_MESSAGE });
  // Updated during render so a navigation right after a state change already sees the new value.
  guard.current.dirty = dirty;
  guard.current.message = message ?? DEFAULT_UNSAVED_MESSAGE;

  useEffect(() => {
    const mine = guard.current;
    guards.add(mine);
    if (guards.size === 1) addEventListener('beforeunload', onBeforeUnload);
    return () => {
      guards.delete(mine);
      if (guards.size === 0) removeEventListener('beforeunload', onBeforeUnload);
    };
  }, []);
}
