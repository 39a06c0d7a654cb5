/**
 * One progress line on stderr: rewritten in place on a terminal, printed every few seconds
 * otherwise (CI logs, pipes), so that stdout keeps only the summary.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private lastPrinted = 0;
  private lastLength = 0;

  constructor(
    private readonly label: string,
    private readonly plainEveryMs = 2_000,
  ) {}

  update(text: string): void {
    const line = `[${this.label}] ${text}`;
    if (this.tty) {
      process.stderr.write(`\r${line.padEnd(this.lastLength)}`);
      this.lastLength = line.length;
    } else if (Date.now() - this.lastPrinted >= this.plainEveryMs) {
      process.stderr.write(`${line}\n`);
      this.lastPrinted = Date.now();
    }
  }

  /** Ends the progress line and prints a permanent one. */
  log(text: string): void {
    this.clear();
    process.stderr.write(`[${this.label}] ${text}\n`);
  }

  clear(): void {
    if (this.tty && this.lastLength > 0) {
      process.stderr.write(`\r${' '.repeat(this.lastLength)}\r`);
      this.lastLength = 0;
    }
  }
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
