// The page's keyboard shortcuts, as pure functions of the key event (App applies them).
import { viewForDigit, type ViewName } from '../../../common/views.js';

/** Just what App reads of a KeyboardEvent (so tests need no DOM). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  repeat: boolean;
}

/** Ctrl/Cmd+1…7 → the view it opens; null for any other key. */
export function shortcutView(press: KeyPress): ViewName | null {
  const modifier = press.ctrlKey || press.metaKey;
  if (!modifier || press.altKey || press.shiftKey) return null;
  return viewForDigit(press.key);
}

/** A plain Space (no modifier, not held down): start or pause training. */
export function isStartPauseKey(press: KeyPress): boolean {
  return press.key === ' ' && !press.ctrlKey && !press.metaKey && !press.altKey && !press.repeat;
}

const BUTTON_INPUT_TYPES = ['checkbox', 'radio', 'button', 'submit', 'reset'];

/** True when keys typed into `target` are text (Space must type a space there). */
export function isTyping(target: EventTarget | null): boolean {
  if (typeof HTMLElement === 'undefined' || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !BUTTON_INPUT_TYPES.includes(target.type);
  return false;
}
