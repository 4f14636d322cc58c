import type { FetcherArgs } from './kinds';
import { listItems, unwrap, type Resolved, type Scope, type Value } from './scope';

/** What a fetcher call's claim reads of its arguments. */
export interface CallArgs extends FetcherArgs {
  urls(): (string | undefined)[];
  name(): string | undefined;
}

/** A set's attributes as a fetcher reads them (inherits and `finalAttrs` followed); each read once. */
export class Args implements CallArgs {
  private readonly texts = new Map<string, string | undefined>();

  constructor(
    readonly set: Value,
    private readonly scope: Scope,
  ) {}

  has(name: string): boolean {
    return this.scope.entries(this.set.node).has(name);
  }

  value(name: string): Resolved | undefined {
    return this.has(name) ? this.scope.select({ value: this.set }, [name]) : undefined;
  }

  text(name: string): string | undefined {
    if (!this.texts.has(name)) {
      const value = this.value(name);
      this.texts.set(name, value && 'value' in value ? this.scope.stringOf(value.value) : undefined);
    }
    return this.texts.get(name);
  }

  written(name: string): string | undefined {
    const value = this.value(name);
    return value && 'value' in value ? this.scope.slice(unwrap(value.value.node)) : undefined;
  }

  isTrue(name: string): boolean {
    return this.written(name) === 'true';
  }

  /** A list's items as strings (undefined where the text does not fix one); undefined when not a list. */
  list(name: string): (string | undefined)[] | undefined {
    const value = this.value(name);
    if (!value || !('value' in value)) return undefined;
    const list = unwrap(value.value.node);
    if (list.name !== 'List') return undefined;
    return listItems(list).map((item) => this.scope.stringOf({ node: item, env: value.value.env }));
  }

  /** The URLs a `url` or `urls` attribute names (undefined for one the text does not fix). */
  urls(): (string | undefined)[] {
    if (this.has('url')) return [this.text('url')];
    if (this.has('urls')) return this.list('urls') ?? [undefined];
    return [];
  }

  /** The store path name: `name`, or `pname-version`. */
  name(): string | undefined {
    const pname = this.text('pname');
    const version = this.text('version');
    return this.text('name') ?? (pname && version ? `${pname}-${version}` : undefined);
  }
}
