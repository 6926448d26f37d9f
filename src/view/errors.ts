/** A request `view` cannot answer as asked: its HTTP status and a message naming the parameter and the fix. */
export class ViewRequestError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 405,
    message: string,
  ) {
    super(message);
    this.name = 'ViewRequestError';
  }
}
