import { formatDuration, type Io } from '../output.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Named steps on stderr: a spinner while a step runs on a terminal, one line per step
 * otherwise (CI logs). stdout stays free for the recipe or --json.
 */
export class Phases {
  #timer: ReturnType<typeof setInterval> | null = null;
  #label = '';
  #started = 0;
  constructor(private readonly io: Io) {}

  start(label: string): void {
    this.#stopSpinner();
    this.#label = label;
    this.#started = performance.now();
    if (!this.io.interactive) {
      this.io.err(`» ${label}…\n`);
      return;
    }
    let frame = 0;
    const draw = () => this.io.err(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${this.#label}…`);
    draw();
    this.#timer = setInterval(draw, 80);
    this.#timer.unref?.();
  }

  /** Updates the running step's label (e.g. a count) without a new line. */
  update(label: string): void {
    this.#label = label;
  }

  /** Lets another process write to the terminal: the spinner stops, the step stays open. */
  pause(): void {
    this.#stopSpinner();
    if (this.io.interactive) this.io.err('\n');
  }

  done(summary?: string): void {
    this.#stopSpinner();
    const took = formatDuration(performance.now() - this.#started);
    this.io.err(`${this.io.interactive ? '\r\x1b[2K' : ''}✓ ${summary ?? this.#label} (${took})\n`);
  }

  fail(summary: string): void {
    this.#stopSpinner();
    this.io.err(`${this.io.interactive ? '\r\x1b[2K' : ''}✗ ${summary}\n`);
  }

  note(text: string): void {
    this.io.err(`  ${text}\n`);
  }

  #stopSpinner(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
