// One row per decision, the same in results.jsonl, results.csv and the email attachment.
export interface ResultRow {
  time: string;
  runId: string;
  job: string;
  action: string;
  /** `applied` when written to WordPress, `planned` in a preview, `failed` when the write failed. */
  mode: 'applied' | 'planned' | 'failed';
  objectId: string;
  userPrincipalName: string;
  email: string;
  wordpressId: number | '';
  wordpressLogin: string;
  fields: string;
  message: string;
}

export const resultColumns: ReadonlyArray<keyof ResultRow> = [
  'time',
  'runId',
  'job',
  'action',
  'mode',
  'objectId',
  'userPrincipalName',
  'email',
  'wordpressId',
  'wordpressLogin',
  'fields',
  'message',
];
