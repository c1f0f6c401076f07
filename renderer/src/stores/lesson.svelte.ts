// The guided lesson (a tour over the views) and the "what to look for" panels, remembered in
// localStorage: whether the lesson was offered, the step to resume at, and the panels closed.
import { VIEWS, type ViewName } from '../../../common/views.js';
import { VARIANTS } from '../../../common/network/variants.js';
import { availableSteps, parseTourMemory, resumeIndex, type TourMemory, type TourStep } from '../lib/tour-steps.js';
import type { NavStore } from './nav.svelte.js';

const TOUR_KEY = 'lenet-lab.tour';
const LOOKFOR_KEY = 'lenet-lab.lookfor.closed';

type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>;

function browserStorage(): KeyValueStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled: the lesson still runs, it is just not remembered
  }
}

export class LessonStore {
  /** The steps this build can show (views and variants read at run time). */
  readonly steps: readonly TourStep[] = availableSteps(VIEWS.map((v) => v.name), Object.keys(VARIANTS));
  open = $state(false);
  index = $state(0);
  step = $derived<TourStep | undefined>(this.steps[this.index]);
  /** Views whose "what to look for" panel was closed. */
  closedPanels = $state.raw<ReadonlySet<string>>(new Set());

  private memory: TourMemory;

  constructor(private readonly nav: NavStore, private readonly storage: KeyValueStorage | null = browserStorage()) {
    this.memory = parseTourMemory(this.read(TOUR_KEY));
    try {
      const closed: unknown = JSON.parse(this.read(LOOKFOR_KEY) ?? '[]');
      if (Array.isArray(closed)) this.closedPanels = new Set(closed.filter((v): v is string => typeof v === 'string'));
    } catch {
      // a damaged entry shows every panel again
    }
  }

  /** On first launch the lesson opens by itself, once. */
  offerOnFirstLaunch(): void {
    if (!this.memory.seen) this.start();
  }

  /** Opens the lesson where it was left (or at the start once finished). */
  start(): void {
    this.open = true;
    this.goTo(resumeIndex(this.steps, this.memory.step));
  }

  goTo(index: number): void {
    if (this.steps.length === 0) return;
    this.index = Math.min(Math.max(0, index), this.steps.length - 1);
    const step = this.steps[this.index]!;
    // The registry may lack a step's view in this build; availableSteps filtered those out.
    this.nav.go(step.view as ViewName);
    this.remember({ seen: true, step: step.id });
  }

  next(): void {
    if (this.index >= this.steps.length - 1) this.finish();
    else this.goTo(this.index + 1);
  }

  back(): void {
    this.goTo(this.index - 1);
  }

  /** Closes the lesson; Start resumes at this step. */
  leave(): void {
    this.open = false;
  }

  /** The last step done: the next Start begins again from the first. */
  finish(): void {
    this.open = false;
    this.remember({ seen: true, step: null });
  }

  closePanel(view: string): void {
    this.closedPanels = new Set([...this.closedPanels, view]);
    this.write(LOOKFOR_KEY, JSON.stringify([...this.closedPanels]));
  }

  private remember(memory: TourMemory): void {
    this.memory = memory;
    this.write(TOUR_KEY, JSON.stringify(memory));
  }

  private read(key: string): string | null {
    try {
      return this.storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  private write(key: string, value: string): void {
    try {
      this.storage?.setItem(key, value);
    } catch {
      // full or disabled storage: the lesson is simply not remembered
    }
  }
}
