// The one key scheme of stored items. Thoughts, suffixes, records and failure marks are stored per arm under these
// keys, and the scheduler tracks its work by the same ones. The format is on disk in every run's store: never
// change it.

/** Key of an arm's thought for (prefix, sample): `<prefixId>/<sample>`. */
export function thoughtKey(prefixId: string, sample: number): string {
  return `${prefixId}/${sample}`;
}

/** Key of an arm's suffix, record or failure mark for (prefix, sample, condition): `<prefixId>/<sample>/<condition>`. */
export function sampleKey(prefixId: string, sample: number, condition: string): string {
  return `${prefixId}/${sample}/${condition}`;
}
