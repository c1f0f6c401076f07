// Under Wayland a window cannot choose or learn its place on screen: the compositor decides, and Electron
// reports 0,0. So there the window opens at its saved size and state where the compositor puts it, and
// the position saved in an X11, Windows or macOS session is kept instead of being overwritten with 0,0.
import type { WindowPlacement, WindowState } from './window-state.js';

/**
 * True when the window is a native Wayland client: Linux, a Wayland session, and Electron's Ozone layer
 * not forced onto X11 (Electron 38+ picks Wayland by itself in a Wayland session).
 */
export function isNativeWayland(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, ozonePlatformSwitch: string): boolean {
  if (platform !== 'linux') return false;
  const forced = (ozonePlatformSwitch || env.ELECTRON_OZONE_PLATFORM_HINT || '').toLowerCase();
  if (forced === 'x11') return false;
  if (forced === 'wayland') return true;
  return Boolean(env.WAYLAND_DISPLAY) || env.XDG_SESSION_TYPE?.toLowerCase() === 'wayland';
}

/** The placement without x/y: the compositor places the window; size, maximised and full screen still apply. */
export function withoutPosition(placement: WindowPlacement): WindowPlacement {
  const { width, height } = placement.bounds;
  return { ...placement, bounds: { width, height } };
}

/** The state to save when the window cannot know its place: its size and state, with the earlier position. */
export function keepSavedPosition(state: WindowState, earlier: WindowState | null): WindowState {
  return { ...state, bounds: { ...state.bounds, x: earlier?.bounds.x ?? 0, y: earlier?.bounds.y ?? 0 } };
}
