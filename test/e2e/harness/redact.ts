// Secrets leave the harness only as "[secret]": every log line and error message passes through here.
export class Redactor {
  private readonly values: string[];
  constructor(values: Iterable<string>) {
    // Longest first, so a value containing another is masked whole.
    this.values = [...new Set(values)].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  }
  text(s: string): string {
    let out = s;
    for (const v of this.values) out = out.split(v).join("[secret]");
    return out;
  }
  error(e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    const clean = new Error(this.text(err.message));
    clean.stack = this.text(err.stack ?? clean.message);
    return clean;
  }
}
